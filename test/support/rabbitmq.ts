import { connect } from 'amqplib';

/**
 * RabbitMQ for the tests, found as PostgreSQL is (test/adapters/pg-support.ts): with
 * MAYDAY_TEST_RABBITMQ_URL set (CI sets it) the broker must answer; without it, a broker on
 * the default local address is used if one answers, else the suites skip, saying why.
 */
const configured = process.env.MAYDAY_TEST_RABBITMQ_URL;
export const rabbitUrl = configured ?? 'amqp://guest:guest@127.0.0.1:5672';

async function reachable(): Promise<boolean> {
  try {
    const connection = await connect(rabbitUrl, { timeout: 2000 });
    await connection.close();
    return true;
  } catch {
    return false;
  }
}

/** False when the RabbitMQ suites run; otherwise why they are skipped. */
export const rabbitSkip: string | false = configured === undefined && !(await reachable()) ? `MAYDAY_TEST_RABBITMQ_URL is not set and no RabbitMQ answers at ${rabbitUrl.replace(/\/\/[^@]*@/, '//')}` : false;

/** Deletes the queues of a Mayday queue prefix (the three queues and their delay queues). */
export async function deleteQueues(prefix: string): Promise<void> {
  const connection = await connect(rabbitUrl, { timeout: 5000 });
  try {
    const channel = await connection.createChannel();
    for (const name of ['priority', 'standard', 'reprocessing']) {
      await channel.deleteQueue(`${prefix}${name}`);
      await channel.deleteQueue(`${prefix}${name}.delay`);
    }
    await channel.close();
  } finally {
    await connection.close();
  }
}
