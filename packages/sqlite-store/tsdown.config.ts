import { eskitConfig } from '@eskit/tsdown-config'

export default eskitConfig({ entry: { index: 'src/index.ts', files: 'src/files.ts' } })
