import { eskitConfig } from '@eskit/tsdown-config'

export default eskitConfig()
