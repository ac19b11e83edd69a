import { Kafka, logLevel, type Admin } from 'kafkajs';
import { testKafkaBrokers, uniqueName } from './helpers.js';

/** A kafkajs admin on the run's broker; callers disconnect it. */
export async function testKafkaAdmin(brokers: string[] = testKafkaBrokers()): Promise<Admin> {
  const admin = new Kafka({ clientId: uniqueName('test-admin'), brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  return admin;
}

/** Creates uniquely named topics (each `<prefix>_<unique>`), waits for their leaders, returns the names. */
export async function createTestTopics(prefixes: string[], partitions = 1, brokers: string[] = testKafkaBrokers()): Promise<string[]> {
  const names = prefixes.map((p) => uniqueName(p.replace(/[^a-zA-Z0-9._-]/g, '_')));
  const admin = await testKafkaAdmin(brokers);
  try {
    await admin.createTopics({ waitForLeaders: true, topics: names.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })) });
  } finally {
    await admin.disconnect();
  }
  return names;
}
