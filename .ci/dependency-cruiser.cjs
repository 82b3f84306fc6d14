/**
 * The folders are the data flow: transport → ingest → pipeline → {storage, rules → notify},
 * wired by src/compose and src/main.ts; config, model and lib are leaves everyone may use.
 */
module.exports = {
  forbidden: [
    {
      name: 'only-transport-imports-uws',
      comment: 'uWebSockets.js stays behind src/transport (STYLE.md 2).',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/transport/' },
      to: { path: 'uWebSockets\\.js|uws-js-unofficial' },
    },
    {
      name: 'only-cluster-and-state-import-ioredis',
      comment:
        'Redis stays behind src/cluster, the Redis StateStore and the Redis implementations ' +
        'of storage and limits interfaces (src/{storage,limits}/redis-*.ts); the rest sees interfaces.',
      severity: 'error',
      from: {
        path: '^src/',
        pathNot: '^src/(cluster|state)/|^src/(storage|limits)/redis-[^/]*\\.ts$',
      },
      to: { path: 'node_modules/ioredis/' },
    },
    {
      name: 'sql-only-in-storage',
      comment:
        'ClickHouse SQL lives in src/storage behind small interfaces owned by their users ' +
        '(RollupStore, SegmentQuery, DecisionStore); only the composition root wires it.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(storage/|compose/|main\\.ts$)' },
      to: { path: '^src/storage/clickhouse\\.ts$|node_modules/(chdb|@clickhouse/client)/' },
    },
    {
      name: 'inner-layers-do-not-know-transport',
      severity: 'error',
      from: {
        path: '^src/(ingest|pipeline|storage|rules|notify|config|ops|state|cluster|limits|model|lib|auth|demo|privacy)/',
      },
      to: { path: '^src/transport/' },
    },
    {
      name: 'storage-does-not-know-ingest',
      severity: 'error',
      from: { path: '^src/storage/' },
      to: { path: '^src/(ingest|pipeline|rules|notify)/' },
    },
    {
      name: 'browser-code-knows-no-server',
      comment:
        'src/client ships to browsers and src/dashboard is a page: neither imports server code ' +
        '(src/lib and src/model are browser-safe), ' +
        'uWebSockets.js or the Node-only `ws` (a Node user injects it).',
      severity: 'error',
      from: { path: '^src/(client|dashboard)/' },
      to: {
        path: '^src/(?!client/|dashboard/|lib/|model/)|uWebSockets\\.js|uws-js-unofficial|node_modules/ws/',
      },
    },
    {
      name: 'browser-code-uses-no-node-builtins',
      severity: 'error',
      from: { path: '^src/(client|dashboard)/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'config-is-a-leaf',
      comment:
        'Settings and their loading: the schemas of streams, rules and caps are injected by ' +
        'their owners (src/compose/config.ts), so config imports only itself and zod.',
      severity: 'error',
      from: { path: '^src/config/' },
      to: { path: '^src/(?!config/)|node_modules/(?!zod/)' },
    },
    {
      name: 'model-and-lib-are-leaves',
      comment:
        'The records every layer shares (model) and small utilities (lib): pure and ' +
        'browser-safe, the client uses them. No node builtins, no packages, nothing outside ' +
        'their own folder.',
      severity: 'error',
      from: { path: '^src/(model|lib)/' },
      to: { pathNot: '^src/$1/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-folder-cycles',
      comment: 'Folders depend one way: the data flow, not a loop (config ↔ pipeline was one).',
      severity: 'error',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
  },
};
