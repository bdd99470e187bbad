/* global process */
// The ablation cases of the load benchmark: the BUILT server (dist/index.js) started as the
// bin starts it (same configuration parsing, same app), with some features left out through
// buildApp's `without` option, which exists for this benchmark only.
// Usage: node ablation-server.js --without <feature>[,<feature>...] <server flags...>
//   features: validation, auth, http-metrics, executor-metrics, analyzer, request-id
//   ('none' leaves everything in; the logger case is `--without none --log-level silent`)
import { buildApp, loadConfig } from '../dist/index.js';

const argv = process.argv.slice(2);
const at = argv.indexOf('--without');
if (at < 0 || argv[at + 1] === undefined) {
  process.stderr.write('usage: node ablation-server.js --without <feature>[,...] <flags>\n');
  process.exit(2);
}
const list = argv[at + 1];
const without = list === 'none' ? [] : list.split(',');
argv.splice(at, 2);
const loaded = loadConfig(argv, {});
if (loaded.help || loaded.version) process.exit(2);
const app = await buildApp({ config: loaded.config, without });
await app.listen({ host: loaded.config.host, port: loaded.config.port });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
