import { describe, expect, it } from 'vitest';
import { decodePdu, encodePdu, type Pdu } from './codec.js';
import { messageContent, messageText, partFields } from './message.js';
import { segmentText } from './segment.js';

function roundTrip(fields: Parameters<typeof encodePdu>[0]): Pdu {
  const r = decodePdu(encodePdu(fields));
  if (!r.ok) throw new Error(r.reason);
  return r.pdu;
}

describe('message content', () => {
  it('reassembles UDH, SAR and payload segmentation to the same text', () => {
    const text = 'Long message € '.repeat(20);
    for (const method of ['udh8', 'udh16', 'sar', 'payload'] as const) {
      const seg = segmentText(text, { method, reference: 77 });
      const pieces = seg.parts.map((part) => {
        const pdu = roundTrip({
          command: 'submit_sm',
          destination_addr: '1',
          ...partFields(seg, part, 0x03),
        });
        const c = messageContent(pdu);
        if (!c.ok) throw new Error(c.reason);
        expect(pdu.esm_class! & 0x03).toBe(0x03);
        if (method !== 'payload')
          expect(c.concat).toMatchObject({
            ref: 77,
            total: seg.parts.length,
            via: method === 'sar' ? 'sar' : 'udh',
          });
        return { seq: c.concat?.seq ?? 1, text: messageText(pdu) };
      });
      expect(
        pieces
          .sort((a, b) => a.seq - b.seq)
          .map((p) => p.text)
          .join(''),
      ).toBe(text);
    }
  });

  it('refuses a UDHI flag over a malformed UDH', () => {
    const pdu = roundTrip({
      command: 'submit_sm',
      destination_addr: '1',
      esm_class: 0x40,
      short_message: Buffer.from([0x09, 0x00]),
    });
    expect(messageContent(pdu)).toMatchObject({ ok: false, status: 0x43 });
    expect(messageText(pdu)).toBeUndefined();
  });
});
