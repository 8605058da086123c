/**
 * `GET /report/stackwalker/:id`: the stackwalker's document of a processed crash (its
 * `json_dump`: threads, frames, modules, registers), alone, as JSON: what the report
 * page's "stackwalker output" link opens. The document holds no protected field, so it is
 * public as the report page is.
 */
import type { FastifyPluginAsync } from 'fastify';
import { withAccess } from '../../auth/route-access.js';
import { parseCrashId } from '../../common/crash-id.js';
import type { ProcessedCrashStore } from '../../ports/processed-crash-store.js';

export interface StackwalkerOutputOptions {
  processedCrashStore: ProcessedCrashStore;
}

export const stackwalkerOutputPlugin: FastifyPluginAsync<StackwalkerOutputOptions> = async (app, options) => {
  app.get<{ Params: { id: string } }>('/report/stackwalker/:id', withAccess('public'), async (request, reply) => {
    const crashId = parseCrashId(request.params.id);
    if (!crashId) return reply.code(400).send({ error: `"${request.params.id}" is not a crash id` });
    const crash = await options.processedCrashStore.get(crashId);
    if (!crash) return reply.code(404).send({ error: 'no processed crash with this id', crash_id: crashId });
    if (crash.json_dump === undefined || crash.json_dump === null) return reply.code(404).send({ error: 'this crash has no stackwalker output (no minidump, or the stackwalk failed)', crash_id: crashId });
    return reply.header('content-disposition', `inline; filename="${crashId}.json_dump.json"`).send(crash.json_dump);
  });
};
