import { eskitConfig } from '@eskit/tsdown-config'

// worker-views: what build worker threads import (main.mjs runs the CLI); seed: for apps/bench
export default eskitConfig({
  entry: ['src/main.ts', 'src/cluster-demo.ts', 'src/worker-views.ts', 'src/seed.ts'],
  dts: false,
})
