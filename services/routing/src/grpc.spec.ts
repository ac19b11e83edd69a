import { describe, expect, it } from 'vitest';
import { withoutPrices } from './grpc.js';

describe('reasons without prices (roles without rates.read)', () => {
  it('cuts the prices out of every strategy reason that names one', () => {
    expect(withoutPrices('least cost #1: 3450 EUR micro-units/segment')).toBe('least cost #1');
    expect(
      withoutPrices(
        'adaptive exploitation: most delivered per EUR meeting the level 95%; P(deliver) 97.4% (29.2 samples), p95 <= 2000 ms, price 3000 EUR micro, 324.8 delivered/EUR',
      ),
    ).toBe(
      'adaptive exploitation: most delivered per EUR meeting the level 95%; P(deliver) 97.4% (29.2 samples), p95 <= 2000 ms',
    );
    expect(withoutPrices('priority 2')).toBe('priority 2');
    expect(withoutPrices('weighted pick (share 50%)')).toBe('weighted pick (share 50%)');
  });
});
