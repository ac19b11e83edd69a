import { describe, expect, it } from 'vitest';
import { replicationFor } from './topics.js';

describe('replicationFor', () => {
  it('gives three copies and min ISR 2 from three brokers up, and never more copies than brokers', () => {
    expect(replicationFor(1)).toEqual({ replicationFactor: 1, minInsyncReplicas: 1 });
    expect(replicationFor(2)).toEqual({ replicationFactor: 2, minInsyncReplicas: 1 });
    expect(replicationFor(3)).toEqual({ replicationFactor: 3, minInsyncReplicas: 2 });
    expect(replicationFor(7)).toEqual({ replicationFactor: 3, minInsyncReplicas: 2 });
    expect(replicationFor(0)).toEqual({ replicationFactor: 1, minInsyncReplicas: 1 });
  });
});
