// The baseline for the HTTP benchmarks: a bare fastify server answering the same JSON from memory, so the
// difference shows what zhengtong's own work (routing, validation, database read, metrics) costs.
import Fastify from 'fastify';

const department = { uscc: '11210100001000029N', name: '沈阳市市场监督管理局', shortName: '市场监管局', areaCode: '210100', createdAt: new Date().toISOString() };
const app = Fastify({ logger: false });
app.get('/v1/departments/:uscc', async () => department);
// The licence verification benchmark's baseline: its answer body, as a constant.
const body = process.env.ZT_BASELINE_BODY ?? '{}';
app.get('/v1/licences/:id/verification', (_request, reply) => void reply.type('application/json').send(body));
const address = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
process.stdout.write(`listening ${address}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
