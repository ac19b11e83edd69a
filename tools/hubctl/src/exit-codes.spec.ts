import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { describeStatus, EXIT, exitCodeForStatus, grpcFailure } from './exit-codes.js';

const admin = { service: 'admin', address: '127.0.0.1:50051' };

describe('gRPC failures', () => {
  it('maps status codes to sysexits-style exit codes', () => {
    expect(exitCodeForStatus(status.INVALID_ARGUMENT)).toBe(EXIT.DATA);
    expect(exitCodeForStatus(status.UNAVAILABLE)).toBe(69);
    expect(exitCodeForStatus(status.DEADLINE_EXCEEDED)).toBe(69);
    expect(exitCodeForStatus(status.UNAUTHENTICATED)).toBe(77);
    expect(exitCodeForStatus(status.PERMISSION_DENIED)).toBe(77);
    expect(exitCodeForStatus(status.NOT_FOUND)).toBe(1);
    expect(exitCodeForStatus(status.ALREADY_EXISTS)).toBe(1);
    expect(exitCodeForStatus(status.ABORTED)).toBe(75);
    expect(exitCodeForStatus(status.INTERNAL)).toBe(1);
  });

  it('says what went wrong in one sentence', () => {
    expect(describeStatus(status.UNAVAILABLE, 'No connection established', admin, false)).toBe(
      'cannot reach admin at 127.0.0.1:50051: is the hub running?',
    );
    expect(describeStatus(status.INVALID_ARGUMENT, 'currency_code must be ISO 4217.', admin, true)).toBe(
      'invalid argument: currency_code must be ISO 4217',
    );
    expect(describeStatus(status.UNAUTHENTICATED, 'missing token', admin, false)).toBe(
      'admin at 127.0.0.1:50051 requires a token: set HUBCTL_TOKEN or pass --token',
    );
    expect(describeStatus(status.UNAUTHENTICATED, 'invalid admin token', admin, true)).toMatch(
      /^admin at 127\.0\.0\.1:50051 refused the token: invalid admin token/,
    );
    expect(describeStatus(status.NOT_FOUND, 'account acme not found', admin, true)).toBe(
      'not found: account acme not found',
    );
    expect(describeStatus(status.UNAVAILABLE, 'self-signed certificate in chain', admin, true)).toMatch(
      /TLS failed/,
    );
  });

  it('keeps the gRPC error as the cause', () => {
    const err = { code: status.ABORTED, details: 'revision is 4, not 3' };
    const e = grpcFailure(err, admin, true);
    expect(e.exitCode).toBe(EXIT.TEMP_FAIL);
    expect(e.message).toBe('conflict: revision is 4, not 3 (read the resource again and retry)');
    expect(e.cause).toBe(err);
  });
});
