/**
 * What the direct path costs the sender's function per room size: one fan-out of a message to N
 * connections through shared/src/aws/clients/connections-poster.ts, POST_CONCURRENCY (32) at a
 * time, against a stub @connections endpoint in a child process (so its CPU is not counted). Prints wall and CPU ms per fan-out
 * (median of `--rounds`), and the CPU scaled to a 256 MB function's share of a vCPU (256/1769),
 * which bounds its wall time when the posts are CPU-bound. Informs DirectFanoutMaxMembers.
 *
 *   npx tsx bench/direct-fanout-size.ts [--rounds 30] [--sizes 1,10,25,50,100,200]
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { forEachConcurrently } from '../shared/src/core/concurrency.js';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '30' }, sizes: { type: 'string', default: '1,10,25,50,100,200' } },
});
process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_ACCESS_KEY_ID ??= 'local';
process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { connectionsPoster } = await import('../shared/src/aws/clients/connections-poster.js');

const VCPU_SHARE_256MB = 256 / 1769;
const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)] ?? 0;

const STUB = `const s = require('node:http').createServer((q, r) => { q.resume(); q.on('end', () => { r.writeHead(200, { 'content-length': '0' }); r.end(); }); });
s.listen(0, '127.0.0.1', () => console.log(s.address().port));`;
const stub = spawn(process.execPath, ['-e', STUB], { stdio: ['ignore', 'pipe', 'inherit'] });
const [port] = (await once(stub.stdout, 'data')) as [Buffer];
const poster = connectionsPoster(`http://127.0.0.1:${port.toString().trim()}/prod`);
const body = JSON.stringify({ type: 'message', room: 'bench', message: 'x'.repeat(120), messageId: 'm' });

// Warm-up: sockets, JIT, the signer.
await forEachConcurrently(
  Array.from({ length: 500 }, (_, index) => `w${index}`),
  32,
  (id) => poster.post(id, body),
);
console.log('members  wall ms (p50)  CPU ms (p50)  CPU µs/post  CPU ms at 256 MB');
for (const size of String(values.sizes).split(',').map(Number)) {
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let round = 0; round < Number(values.rounds); round++) {
    const ids = Array.from({ length: size }, (_, index) => `c${round}-${index}`);
    const cpu = process.cpuUsage();
    const started = performance.now();
    await forEachConcurrently(ids, 32, (id) => poster.post(id, body));
    walls.push(performance.now() - started);
    const used = process.cpuUsage(cpu);
    cpus.push((used.user + used.system) / 1000);
  }
  const cpu = median(cpus);
  console.log(
    `${String(size).padStart(7)}  ${median(walls).toFixed(1).padStart(13)}  ${cpu.toFixed(1).padStart(12)}  ${((cpu * 1000) / size).toFixed(0).padStart(11)}  ${(cpu / VCPU_SHARE_256MB).toFixed(1).padStart(16)}`,
  );
}
stub.kill();
process.exit(0);
