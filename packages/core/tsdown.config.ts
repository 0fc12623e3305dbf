import { eskitConfig } from '@eskit/tsdown-config'

export default eskitConfig({
  entry: {
    index: 'src/index.ts',
    'adapter/index': 'src/adapter/index.ts',
    'sqlite/index': 'src/sqlite/index.ts',
    // the entry of build worker threads, loaded by URL next to the collector's chunk
    'build-worker': 'src/build-worker.ts',
  },
})
