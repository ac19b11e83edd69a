// Start-up of a fresh consumer group at a point in time instead of the topic's beginning: the group's
// offsets are set, before any member joins, to the first record whose timestamp is at or after `sinceMs`
// (Kafka's time index; a partition without such a record starts at its end). Used for sms.delivery.v1:
// the adaptive estimates ignore observations older than their horizon, so reading from the horizon gives
// the same estimates as reading the whole topic, and start-up no longer grows with the topic's retention.
import type { Admin } from 'kafkajs';

/** Sets `groupId`'s offsets on `topic` to the first records at or after `sinceMs`; returns them. */
export async function seekGroupToTime(
  admin: Pick<Admin, 'fetchTopicOffsetsByTimestamp' | 'setOffsets'>,
  groupId: string,
  topic: string,
  sinceMs: number,
): Promise<Array<{ partition: number; offset: string }>> {
  const offsets = await admin.fetchTopicOffsetsByTimestamp(topic, Math.max(0, Math.floor(sinceMs)));
  const partitions = offsets.map((p) => ({ partition: p.partition, offset: p.offset }));
  await admin.setOffsets({ groupId, topic, partitions });
  return partitions;
}
