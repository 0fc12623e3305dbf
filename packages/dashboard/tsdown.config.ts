import { eskitConfig } from '@eskit/tsdown-config'

// The page's files are shipped as they are in dist/page/ and inlined into one response at run time.
export default eskitConfig({ copy: [{ from: 'src/page', to: 'dist' }] })
