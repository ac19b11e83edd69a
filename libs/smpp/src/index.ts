export { CommandStatus, statusName, isRetriableStatus, type CommandStatusName } from './status.js';
export { SmppError, SmppTimeoutError, SmppClosedError, type SmppErrorOptions } from './errors.js';
export {
  GSM7_ESCAPE,
  canEncodeGsm7,
  gsm7SeptetLength,
  gsm7CharSeptets,
  encodeGsm7,
  decodeGsm7,
  packSeptets,
  unpackSeptets,
  type Gsm7EncodeOptions,
} from './gsm7.js';
export {
  DataCoding,
  dataCodingInfo,
  decodeText,
  encodeText,
  decodeUcs2,
  encodeUcs2,
  canEncodeLatin1,
  canEncodeAscii,
  type Alphabet,
  type DataCodingInfo,
  type DecodeTextOptions,
  type EncodedText,
  type EncodeTextOptions,
} from './text.js';
export {
  IEI_CONCAT_8,
  IEI_CONCAT_16,
  parseUdh,
  buildUdh,
  concatElement,
  findConcat,
  type UdhElement,
  type ConcatInfo,
  type UdhParseResult,
} from './udh.js';
export {
  segmentText,
  segmentBinary,
  type SegmentMethod,
  type SegmentEncoding,
  type SegmentOptions,
  type SegmentPart,
  type Segmented,
} from './segment.js';
export {
  RECEIPT_STATS,
  MessageState,
  statToMessageState,
  messageStateToStat,
  isFinalStat,
  formatReceipt,
  formatReceiptDate,
  parseReceipt,
  parseReceiptDate,
  encodeNetworkErrorCode,
  decodeNetworkErrorCode,
  type ReceiptStat,
  type ReceiptFields,
  type ParsedReceipt,
  type NetworkErrorCode,
} from './receipt.js';
export {
  parseSmppTime,
  parseScheduleDeliveryTime,
  parseValidityPeriod,
  formatSmppTime,
  formatRelativeSmppTime,
  type SmppTimeResult,
} from './time.js';
export {
  FieldLimits,
  validateBind,
  validateSubmitSm,
  validateQuerySm,
  type ValidateOptions,
} from './validate.js';
export {
  CommandId,
  HEADER_LENGTH,
  GENERIC_NACK,
  decodePdu,
  encodePdu,
  encodeHeaderOnly,
  isResponseId,
  type Pdu,
  type PduFields,
  type PduHeader,
  type PduInit,
  type DecodeResult,
  type DestAddress,
  type UnsuccessSme,
} from './codec.js';
export {
  SmppSession,
  silentLogger,
  type BindType,
  type SessionState,
  type SessionSide,
  type SmppLogger,
  type ResponseSpec,
  type RequestHandler,
  type RequestHandlers,
  type HandledCommand,
  type BindDecision,
  type BindHandler,
  type SmppSessionOptions,
  type SmppSessionEvents,
  type RequestOptions,
} from './session.js';
export { createSmppServer, type SmppServer, type SmppServerOptions } from './server.js';
export { connectSmpp, openSmppSession, type ConnectSmppOptions } from './client.js';
export {
  ESM_CLASS_UDHI,
  ESM_CLASS_DELIVERY_RECEIPT,
  messageContent,
  messageText,
  partFields,
  type MessageContent,
  type MessageContentResult,
} from './message.js';
