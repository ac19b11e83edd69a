/**
 * SMPP command_status values (SMPP 3.4 section 5.1.3, plus the 5.0 additions 0x100-0x112).
 * Names follow the specification. `statusName()` turns a number into its name for logs.
 */
export const CommandStatus = {
  ESME_ROK: 0x00,
  ESME_RINVMSGLEN: 0x01,
  ESME_RINVCMDLEN: 0x02,
  ESME_RINVCMDID: 0x03,
  ESME_RINVBNDSTS: 0x04,
  ESME_RALYBND: 0x05,
  ESME_RINVPRTFLG: 0x06,
  ESME_RINVREGDLVFLG: 0x07,
  ESME_RSYSERR: 0x08,
  ESME_RINVSRCADR: 0x0a,
  ESME_RINVDSTADR: 0x0b,
  ESME_RINVMSGID: 0x0c,
  ESME_RBINDFAIL: 0x0d,
  ESME_RINVPASWD: 0x0e,
  ESME_RINVSYSID: 0x0f,
  ESME_RCANCELFAIL: 0x11,
  ESME_RREPLACEFAIL: 0x13,
  ESME_RMSGQFUL: 0x14,
  ESME_RINVSERTYP: 0x15,
  ESME_RINVNUMDESTS: 0x33,
  ESME_RINVDLNAME: 0x34,
  ESME_RINVDESTFLAG: 0x40,
  ESME_RINVSUBREP: 0x42,
  ESME_RINVESMCLASS: 0x43,
  ESME_RCNTSUBDL: 0x44,
  ESME_RSUBMITFAIL: 0x45,
  ESME_RINVSRCTON: 0x48,
  ESME_RINVSRCNPI: 0x49,
  ESME_RINVDSTTON: 0x50,
  ESME_RINVDSTNPI: 0x51,
  ESME_RINVSYSTYP: 0x53,
  ESME_RINVREPFLAG: 0x54,
  ESME_RINVNUMMSGS: 0x55,
  ESME_RTHROTTLED: 0x58,
  ESME_RINVSCHED: 0x61,
  ESME_RINVEXPIRY: 0x62,
  ESME_RINVDFTMSGID: 0x63,
  ESME_RX_T_APPN: 0x64,
  ESME_RX_P_APPN: 0x65,
  ESME_RX_R_APPN: 0x66,
  ESME_RQUERYFAIL: 0x67,
  ESME_RINVTLVSTREAM: 0xc0,
  ESME_RTLVNOTALLWD: 0xc1,
  ESME_RINVTLVLEN: 0xc2,
  ESME_RMISSINGTLV: 0xc3,
  ESME_RINVTLVVAL: 0xc4,
  ESME_RDELIVERYFAILURE: 0xfe,
  ESME_RUNKNOWNERR: 0xff,
  ESME_RSERTYPUNAUTH: 0x100,
  ESME_RPROHIBITED: 0x101,
  ESME_RSERTYPUNAVAIL: 0x102,
  ESME_RSERTYPDENIED: 0x103,
  ESME_RINVDCS: 0x104,
  ESME_RINVSRCADDRSUBUNIT: 0x105,
  ESME_RINVDSTADDRSUBUNIT: 0x106,
  ESME_RINVBCASTFREQINT: 0x107,
  ESME_RINVBCASTALIAS_NAME: 0x108,
  ESME_RINVBCASTAREAFMT: 0x109,
  ESME_RINVNUMBCAST_AREAS: 0x10a,
  ESME_RINVBCASTCNTTYPE: 0x10b,
  ESME_RINVBCASTMSGCLASS: 0x10c,
  ESME_RBCASTFAIL: 0x10d,
  ESME_RBCASTQUERYFAIL: 0x10e,
  ESME_RBCASTCANCELFAIL: 0x10f,
  ESME_RINVBCAST_REP: 0x110,
  ESME_RINVBCASTSRVGRP: 0x111,
  ESME_RINVBCASTCHANIND: 0x112,
} as const;

export type CommandStatusName = keyof typeof CommandStatus;

const names = new Map<number, string>(Object.entries(CommandStatus).map(([k, v]) => [v, k]));

/** `ESME_RTHROTTLED` for 0x58; `0x00000abc` for values without a name (vendor specific 0x400-0x4FF). */
export function statusName(status: number): string {
  return names.get(status) ?? `0x${status.toString(16).padStart(8, '0')}`;
}

/**
 * Whether sending the same PDU again later can succeed. Throttling, full queues, system errors and
 * generic failures are transient; address, length, format and bind errors are not.
 */
export function isRetriableStatus(status: number): boolean {
  switch (status) {
    case CommandStatus.ESME_RTHROTTLED:
    case CommandStatus.ESME_RMSGQFUL:
    case CommandStatus.ESME_RSYSERR:
    case CommandStatus.ESME_RSUBMITFAIL:
    case CommandStatus.ESME_RUNKNOWNERR:
    case CommandStatus.ESME_RX_T_APPN:
    case CommandStatus.ESME_RDELIVERYFAILURE:
      return true;
    default:
      return false;
  }
}
