import { eskitConfig } from '@eskit/tsdown-config'

export default eskitConfig({
  entry: ['src/main.ts', 'src/cluster-demo.ts', 'src/worker-views.ts'],
  dts: false,
})
