import { CommandStatus, isRetriableStatus, statusName } from './status.js';

export interface SmppErrorOptions {
  /** The SMPP command_status that describes the failure (0 when none applies, e.g. a socket error). */
  commandStatus?: number;
  /** Overrides the default derived from commandStatus. */
  retriable?: boolean;
  cause?: unknown;
  /** The response PDU that carried the error status, when there was one. */
  pdu?: unknown;
}

/** Every failure this lib reports is an SmppError (or a subclass) carrying a command_status. */
export class SmppError extends Error {
  readonly commandStatus: number;
  readonly retriable: boolean;
  /** The response PDU that carried the error status, when there was one. */
  readonly pdu?: unknown;

  constructor(message: string, options: SmppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SmppError';
    this.commandStatus = options.commandStatus ?? CommandStatus.ESME_ROK;
    this.retriable = options.retriable ?? isRetriableStatus(this.commandStatus);
    if (options.pdu !== undefined) this.pdu = options.pdu;
  }

  /** An error for a response PDU whose command_status was not ESME_ROK. */
  static fromStatus(command: string, status: number, pdu?: unknown): SmppError {
    return new SmppError(`${command} failed: ${statusName(status)} (0x${status.toString(16)})`, {
      commandStatus: status,
      pdu,
    });
  }
}

/** No response arrived within the response timeout. The window slot has been freed. Retriable. */
export class SmppTimeoutError extends SmppError {
  constructor(command: string, sequenceNumber: number, timeoutMs: number) {
    super(`${command} seq=${sequenceNumber}: no response within ${timeoutMs} ms`, { retriable: true });
    this.name = 'SmppTimeoutError';
  }
}

/** The session closed (or was never usable) while a request was pending or being sent. Retriable. */
export class SmppClosedError extends SmppError {
  constructor(message = 'SMPP session closed', cause?: unknown) {
    super(message, { retriable: true, cause });
    this.name = 'SmppClosedError';
  }
}
