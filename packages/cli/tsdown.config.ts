import { eskitConfig } from '@eskit/tsdown-config'

// the library (side-effect free) and the `eskit` binary
export default eskitConfig({ entry: { index: 'src/index.ts', bin: 'src/bin.ts' } })
