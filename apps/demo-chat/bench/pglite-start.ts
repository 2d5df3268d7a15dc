/**
 * How long PGlite takes to start and how much RSS it adds: the measurement behind choosing 0.3.x.
 * Not part of `pnpm bench` (it needs the other version installed somewhere):
 *   npm i --prefix /tmp/pglite05 @electric-sql/pglite@0.5.17
 *   node --import tsx bench/pglite-start.ts                                      # the demo's own (0.3.x)
 *   node --import tsx bench/pglite-start.ts /tmp/pglite05/node_modules/@electric-sql/pglite/dist/index.js
 */
const started = performance.now();
const rssBefore = process.memoryUsage().rss;
const { PGlite } = (await import(
  process.argv[2] ?? '@electric-sql/pglite'
)) as typeof import('@electric-sql/pglite');
const db = new PGlite();
await db.waitReady;
await db.exec("create table t (id serial primary key, v text); insert into t (v) values ('a');");
await db.query('select * from t');
console.log(
  JSON.stringify({
    module: process.argv[2] ?? '@electric-sql/pglite (demo dependency)',
    startMs: Math.round(performance.now() - started),
    rssAddedMB: Math.round((process.memoryUsage().rss - rssBefore) / 1e6),
  }),
);
await db.close();
