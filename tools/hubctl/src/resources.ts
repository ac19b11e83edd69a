// The admin API's CRUD resources: their flags, request messages, RPC names, list filters and table columns.
import {
  Account,
  AccountState,
  BillingMode,
  ChargeOn,
  Connector,
  CreateAccountRequest,
  CreateConnectorRequest,
  CreateFirewallRuleRequest,
  CreateNumberPrefixRequest,
  CreatePortedNumberRequest,
  CreateRateRequest,
  CreateRoutingRuleRequest,
  DeleteAccountRequest,
  DeleteConnectorRequest,
  DeleteFirewallRuleRequest,
  DeleteNumberPrefixRequest,
  DeletePortedNumberRequest,
  DeleteRateRequest,
  DeleteRoutingRuleRequest,
  FirewallAction,
  FirewallRule,
  GetAccountRequest,
  GetConnectorRequest,
  GetFirewallRuleRequest,
  GetNumberPrefixRequest,
  GetPortedNumberRequest,
  GetRateRequest,
  GetRoutingRuleRequest,
  ListAccountsRequest,
  ListConnectorsRequest,
  ListFirewallRulesRequest,
  ListNumberPrefixesRequest,
  ListPortedNumbersRequest,
  ListRatesRequest,
  ListRoutingRulesRequest,
  MessageIdFormat,
  NumberPrefix,
  PortedNumber,
  Rate,
  RateDirection,
  RouteStrategy,
  RoutingRule,
  TrafficType,
  UpdateAccountRequest,
  UpdateConnectorRequest,
  UpdateFirewallRuleRequest,
  UpdateNumberPrefixRequest,
  UpdatePortedNumberRequest,
  UpdateRateRequest,
  UpdateRoutingRuleRequest,
} from '@smshub/contracts';
import { CliError, EXIT } from './exit-codes.js';
import {
  bool,
  choice,
  custom,
  enumField,
  enumList,
  int,
  list,
  repeated,
  str,
  time,
  type Field,
  type FlagValues,
} from './fields.js';
import type { Column } from './output.js';
import { cellText } from './output.js';
import {
  parseBool,
  parseCurrency,
  parseEnum,
  parseIntFlag,
  parseKeyValues,
  parseMoney,
  parseTime,
} from './values.js';
import type { MethodOf } from './rpc.js';
import {
  parseSenderPattern,
  parseSenderRewrite,
  parseStrategyOptions,
  parseTimeWindow,
  patternText,
  senderRewriteText,
  strategyOptionsText,
  timeWindowText,
} from './routing-options.js';
import { parseReroute, rerouteText } from './reroute-options.js';

/** The generated functions hubctl uses on a message type. */
export interface Codec {
  fromPartial(object: object): object;
  fromJSON(object: unknown): object;
  toJSON(message: object): unknown;
}

/** Drops write-only secrets (SMPP and bind passwords, password hashes) from a proto3 JSON value. */
export function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k]) => k !== 'password' && k !== 'passwordHash')
      .map(([k, v]) => [k, redact(v)]),
  );
}

function codec(c: unknown): Codec {
  const generated = c as Codec;
  return {
    fromPartial: (o) => generated.fromPartial(o),
    fromJSON: (o) => generated.fromJSON(o),
    toJSON: (m) => redact(generated.toJSON(m)),
  };
}

type Json = Record<string, unknown>;

/** A list filter flag -> a field of the List request. */
export interface Filter {
  flags: string;
  help: string;
  /** List request field set from the flag. */
  key: string;
  parse(value: string, flag: string): unknown;
}

export interface ResourceSpec {
  /** Command name ("accounts"). */
  name: string;
  aliases: string[];
  /** Human singular ("account"). */
  singular: string;
  /** Plural for messages ("accounts"). */
  plural: string;
  /** The positional argument naming the resource ("id", "prefix", "msisdn"). */
  idName: string;
  /** Resource field holding the id (TypeScript name). */
  idKey: string;
  /** Field name of the resource in the requests/responses (TypeScript name: "account", "routingRule"). */
  field: string;
  /** Field name of the list in ListXResponse ("accounts", "routingRules"). */
  listField: string;
  /** Field of Get/Delete requests naming the resource ("id", "prefix", "msisdn"). */
  requestIdKey: string;
  codec: Codec;
  requests: { create: Codec; get: Codec; list: Codec; update: Codec; delete: Codec };
  rpc: {
    create: MethodOf<'admin'>;
    get: MethodOf<'admin'>;
    list: MethodOf<'admin'>;
    update: MethodOf<'admin'>;
    delete: MethodOf<'admin'>;
  };
  fields: Field[];
  /** Extra options read by field parsers (e.g. --currency for --price). */
  helperOptions?: { flags: string; help: string }[];
  filters: Filter[];
  /** Columns of `list` in table form, over the proto3 JSON of one resource. */
  columns: Column<Json>[];
  /** Example lines for --help. */
  examples: string[];
  /** Checks of a resource about to be created (required fields); throws CliError(USAGE). */
  checkCreate?(resource: Json): void;
}

const col = (header: string, key: string): Column<Json> => ({ header, value: (r) => cellText(r[key]) });

function need(resource: Json, key: string, flag: string, what: string): void {
  const v = resource[key];
  if (v === undefined || v === '' || v === 0 || (Array.isArray(v) && v.length === 0)) {
    throw new CliError(`${what}: ${flag} is required`, EXIT.USAGE);
  }
}

const trafficHelp = 'traffic type';

/** --smpp "system_id=acme,max_binds=2,window_size=10,max_submit_rate=50,allowed_cidrs=10.0.0.0/8;192.0.2.0/24". */
const SMPP_KEYS = ['system_id', 'max_binds', 'max_submit_rate', 'window_size', 'allowed_cidrs'] as const;

export function parseSmppCredential(spec: string, flag = '--smpp'): Json {
  const kv = spec.includes('=')
    ? parseKeyValues(spec, flag, SMPP_KEYS)
    : new Map([['system_id', spec.trim()]]);
  const systemId = kv.get('system_id') ?? '';
  if (systemId === '') throw new CliError(`${flag}: system_id is required`, EXIT.USAGE);
  const n = (k: string): number | undefined =>
    kv.has(k) ? parseIntFlag(kv.get(k)!, `${flag} ${k}`, 0, 1_000_000) : undefined;
  const out: Json = { systemId };
  if (n('max_binds') !== undefined) out.maxBinds = n('max_binds');
  if (n('max_submit_rate') !== undefined) out.maxSubmitRate = n('max_submit_rate');
  if (n('window_size') !== undefined) out.windowSize = n('window_size');
  if (kv.has('allowed_cidrs')) {
    out.allowedCidrs = kv
      .get('allowed_cidrs')!
      .split(';')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  }
  return out;
}

/** --bind "host=smsc.example.net,port=2775,system_id=hub,sessions=2,tls=true,..." */
const BIND_KEYS = [
  'host',
  'port',
  'tls',
  'system_id',
  'password_secret_ref',
  'system_type',
  'interface_version',
  'sessions',
  'transceiver',
] as const;

export function parseBind(spec: string, flag = '--bind'): Json {
  const kv = parseKeyValues(spec, flag, BIND_KEYS);
  const host = kv.get('host') ?? '';
  if (host === '') throw new CliError(`${flag}: host is required`, EXIT.USAGE);
  const out: Json = { host };
  if (kv.has('port')) out.port = parseIntFlag(kv.get('port')!, `${flag} port`, 1, 65535);
  if (kv.has('tls')) out.tls = parseBool(kv.get('tls')!, `${flag} tls`);
  if (kv.has('system_id')) out.systemId = kv.get('system_id');
  if (kv.has('password_secret_ref')) out.passwordSecretRef = kv.get('password_secret_ref');
  if (kv.has('system_type')) out.systemType = kv.get('system_type');
  if (kv.has('interface_version')) {
    const v = kv.get('interface_version')!.toLowerCase();
    out.interfaceVersion = v.startsWith('0x')
      ? parseInt(v, 16)
      : parseIntFlag(v, `${flag} interface_version`, 0, 255);
  }
  if (kv.has('sessions')) out.sessions = parseIntFlag(kv.get('sessions')!, `${flag} sessions`, 0, 1000);
  if (kv.has('transceiver')) out.transceiver = parseBool(kv.get('transceiver')!, `${flag} transceiver`);
  return out;
}

/** --target con_a or con_a:70 (weight). */
export function parseTarget(spec: string, flag = '--target'): Json {
  const [id = '', weight] = spec.split(':').map((s) => s.trim());
  if (id === '') throw new CliError(`${flag}: expected <connector-id>[:<weight>], got "${spec}"`, EXIT.USAGE);
  return weight === undefined
    ? { connectorId: id }
    : { connectorId: id, weight: parseIntFlag(weight, flag, 0, 1_000_000) };
}

const accountFields: Field[] = [
  str('name', '--name <name>', 'display name'),
  enumField('state', '--state <state>', 'lifecycle state', AccountState, 'ACCOUNT_STATE_'),
  enumField('billing_mode', '--billing-mode <mode>', 'billing mode', BillingMode, 'BILLING_MODE_'),
  custom('currency_code', '--currency <code>', 'ISO 4217 currency the account is billed in', (v, _a, f) =>
    parseCurrency(v as string, f),
  ),
  custom(
    'smpp_credentials',
    '--smpp <spec>',
    'SMPP system_id with limits: "acme" or "system_id=acme,max_binds=2,window_size=10,max_submit_rate=50,allowed_cidrs=10.0.0.0/8;192.0.2.0/24" (repeat for more; set the password with --password-stdin or accounts set-password)',
    (raw, _a, f) => (raw as string[]).map((s) => parseSmppCredential(s, f)),
    true,
  ),
  enumField(
    'default_traffic_type',
    '--traffic-type <type>',
    `default ${trafficHelp}`,
    TrafficType,
    'TRAFFIC_TYPE_',
  ),
  repeated('allowed_sources', '--allowed-source <regex>', 'allowed sender id / number pattern'),
  bool(
    'receipt_include_text',
    'receipt-text',
    'receipts include the text: field',
    'receipts omit the text: field',
  ),
  choice('message_id_format', '--message-id-format <format>', 'customer message id format', [
    'uuid',
    'hex',
    'decimal',
  ]),
  str('routing_group', '--routing-group <group>', 'account group matched by routing and firewall rules'),
  custom(
    'default_country',
    '--default-country <cc>',
    'ISO 3166-1 alpha-2 country for national numbers',
    (v) => (v as string).toUpperCase(),
  ),
  str('price_plan_id', '--price-plan <id>', 'price plan for destinations without an own sell rate'),
  int(
    'default_validity_seconds',
    '--default-validity <seconds>',
    'validity when submit_sm has none (0 = hub default)',
  ),
  enumField('charge_on', '--charge-on <when>', 'when messages are charged', ChargeOn, 'CHARGE_ON_'),
  bool(
    'refuse_unrated',
    'refuse-unrated',
    'refuse submits no sell rate applies to, with ESME_RINVDSTADR (the default for new accounts)',
    'accept submits without a sell rate (they are rated MISSING_RATE: sent, billed to nobody)',
  ),
  bool(
    'mo_reassemble',
    'mo-reassemble',
    'reassemble long inbound messages (MO) before delivering them (the default)',
    'deliver long inbound messages part by part, each with its UDH',
  ),
];

const connectorFields: Field[] = [
  str('name', '--name <name>', 'display name'),
  str('supplier_id', '--supplier <id>', 'supplier (company) id for settlement'),
  bool('enabled', 'enabled', 'keep it bound and let routing use it', 'disable it'),
  custom(
    'binds',
    '--bind <spec>',
    'SMPP bind: "host=smsc.example.net,port=2775,system_id=hub,sessions=2,tls=false,transceiver=true,interface_version=0x34[,password_secret_ref=file:/path]" (repeat for more; the password comes from --password-stdin or a prompt)',
    (raw, _a, f) => (raw as string[]).map((s) => parseBind(s, f)),
    true,
  ),
  int('window_size', '--window-size <n>', 'unacknowledged submit_sm per session'),
  int('max_submit_rate', '--max-submit-rate <tps>', 'maximum submit_sm per second across sessions'),
  int('response_timeout_ms', '--response-timeout-ms <ms>', 'submit_sm_resp timeout'),
  enumField(
    'message_id_format',
    '--message-id-format <format>',
    'supplier message id spelling',
    MessageIdFormat,
    'MESSAGE_ID_FORMAT_',
  ),
  str(
    'receipt_time_zone',
    '--receipt-time-zone <tz>',
    'IANA time zone of receipt dates (UTC, Europe/Berlin)',
  ),
  bool(
    'supports_message_payload',
    'message-payload',
    'the supplier accepts message_payload',
    'split long messages with UDH',
  ),
  custom('currency_code', '--currency <code>', 'ISO 4217 currency the supplier bills in', (v, _a, f) =>
    parseCurrency(v as string, f),
  ),
];

const routingRuleFields: Field[] = [
  str('name', '--name <name>', 'display name'),
  int('priority', '--priority <n>', 'higher wins among matching rules', -(2 ** 31), 2 ** 31 - 1),
  bool('enabled', 'enabled', 'the rule is in force', 'the rule is off'),
  list('account_ids', '--account <id>', 'match these accounts (none = all)'),
  list('destination_prefixes', '--prefix <digits>', 'match these E.164 prefixes (none = all)'),
  list('mcc_mncs', '--mcc-mnc <mcc-mnc>', 'match these networks, e.g. 234-15 (none = all)'),
  enumList(
    'traffic_types',
    '--traffic-type <type>',
    'match these traffic types',
    TrafficType,
    'TRAFFIC_TYPE_',
  ),
  enumField(
    'strategy',
    '--strategy <strategy>',
    'how connectors are ordered',
    RouteStrategy,
    'ROUTE_STRATEGY_',
  ),
  custom(
    'targets',
    '--target <connector[:weight]>',
    'candidate connector, with a weight for weighted (repeat; order matters for priority)',
    (raw, _a, f) => (raw as string[]).map((s) => parseTarget(s, f)),
    true,
  ),
  list('account_groups', '--account-group <group>', 'match these account groups (not with --account)'),
  list('countries', '--country <cc>', 'match these destination countries'),
  custom(
    'strategy_currency',
    '--strategy-currency <code>',
    'currency costs are compared in (least-cost)',
    (v, _a, f) => parseCurrency(v as string, f),
  ),
  bool('block', 'block', 'block matching traffic instead of routing it', 'route matching traffic'),
  str('block_reason', '--block-reason <text>', 'operator-facing reason of a block'),
  custom(
    'senders',
    '--sender <pattern>',
    'match sender ids: a glob (ACME*, case-insensitive) or /regex/flags as in JavaScript (repeat for more)',
    (raw, _a, f) => (raw as string[]).map((s) => parseSenderPattern(s, f)),
    true,
  ),
  custom(
    'time_window',
    '--time-window <spec>',
    'match only inside "tz=Europe/London,days=mon-fri;sat,hours=09:00-17:00;22:00-06:00" (or the JSON object)',
    (v, _a, f) => parseTimeWindow(v as string, f),
  ),
  custom(
    'strategy_options',
    '--strategy-option <key=value>',
    'quality/score tuning: min_samples, prior_delivery_ratio + prior_p50_latency_ms, weight_quality, weight_cost, weight_latency (repeat or separate with commas; replaces all options)',
    (raw, _a, f) => parseStrategyOptions(raw as string[], f),
    true,
  ),
  custom(
    'sender_rewrite',
    '--sender-rewrite <spec>',
    'new sender id of routed messages: "ACME" or "source_addr=ACME,source_ton=5,source_npi=0,only_if_sender=ACME*;/^acme/i"',
    (v, _a, f) => parseSenderRewrite(v as string, f),
  ),
  custom(
    'reroute',
    '--reroute <spec>',
    're-route fast failures once through the next candidate: on, off, or "enabled=true,failures=UNDELIV;REJECTD:045,except_errors=069,window_ms=30000" (unset: on for OTP and transactional)',
    (v, _a, f) => parseReroute(v as string, f),
  ),
  bool(
    'demote_suspected',
    'demote-suspected',
    'put connectors suspected of being grey routes last (unset: on for OTP traffic)',
    'never demote suspected connectors in this rule',
  ),
];

const firewallFields: Field[] = [
  str('name', '--name <name>', 'display name'),
  int('priority', '--priority <n>', 'higher wins among matching rules', -(2 ** 31), 2 ** 31 - 1),
  bool('enabled', 'enabled', 'the rule is in force', 'the rule is off'),
  enumField('action', '--action <action>', 'what a match does', FirewallAction, 'FIREWALL_ACTION_'),
  list('account_ids', '--account <id>', 'match these accounts (none = all)'),
  custom(
    'senders',
    '--sender <pattern>',
    'match sender ids (sender_deny, or sender_allow with --action allow): a glob (ACME*, case-insensitive) or /regex/flags as in JavaScript (repeat for more)',
    (raw, _a, f) => (raw as string[]).map((s) => parseSenderPattern(s, f)),
    true,
  ),
  repeated('source_patterns', '--source <glob>', 'deprecated, use --sender: match sender ids by glob only'),
  list('destination_prefixes', '--prefix <digits>', 'match these E.164 prefixes'),
  repeated('content_patterns', '--content <keyword>', 'match these whole words in the text (kind keyword)'),
  enumList(
    'traffic_types',
    '--traffic-type <type>',
    'match these traffic types',
    TrafficType,
    'TRAFFIC_TYPE_',
  ),
  str('customer_error_code', '--customer-error <code>', 'error returned to the customer on block'),
  str(
    'kind',
    '--kind <kind>',
    'check kind (destination_block, sender_deny, keyword, velocity_account, ...; see services/routing)',
  ),
  custom('params_json', '--params <json>', 'parameters of the kind as a JSON object', (v, _a, f) => {
    try {
      const parsed: unknown = JSON.parse(v as string);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new Error('not an object');
    } catch {
      throw new CliError(`${f} must be a JSON object, e.g. '{"limit":100,"windowSeconds":60}'`, EXIT.USAGE);
    }
    return v;
  }),
  list('account_groups', '--account-group <group>', 'scope: account groups'),
  list('countries', '--country <cc>', 'scope: destination countries'),
  str('reason', '--reason <text>', 'operator-facing reason'),
];

const rateFields: Field[] = [
  enumField(
    'direction',
    '--direction <dir>',
    'sell (to an account) or buy (from a connector)',
    RateDirection,
    'RATE_DIRECTION_',
  ),
  str('party_id', '--party <id>', 'account id (sell) or connector id (buy)'),
  str('destination_prefix', '--prefix <digits>', 'destination E.164 prefix'),
  str('mcc_mnc', '--mcc-mnc <mcc-mnc>', 'destination network, e.g. 234-15'),
  custom('country_code', '--country <cc>', 'destination country', (v) => (v as string).toUpperCase()),
  enumField(
    'traffic_type',
    '--traffic-type <type>',
    'traffic type (none = all)',
    TrafficType,
    'TRAFFIC_TYPE_',
  ),
  custom('price', '--price <decimal>', 'price per segment, exact decimal (with --currency)', (v, all, f) => {
    const currency = all.currency;
    if (typeof currency !== 'string') throw new CliError(`${f} needs --currency`, EXIT.USAGE);
    return parseMoney(v as string, currency, f);
  }),
  time('valid_from', '--valid-from <time>', 'start of validity (RFC 3339, date, now)'),
  time('valid_until', '--valid-until <time>', 'end of validity, exclusive (none = open-ended)'),
  str('price_plan_id', '--price-plan <id>', 'sell only: price plan (then --party is empty)'),
  bool(
    'inbound',
    'inbound',
    "sell only: an inbound rate, pricing MO received for the account (matched on the subscriber's number)",
    'an MT sell rate (the default)',
  ),
];

const prefixFields: Field[] = [
  custom('country_code', '--country <cc>', 'ISO 3166-1 alpha-2 country', (v) => (v as string).toUpperCase()),
  str('mcc', '--mcc <mcc>', 'mobile country code'),
  str('mnc', '--mnc <mnc>', 'mobile network code (leading zeros kept)'),
  str('network_name', '--network <name>', 'network name'),
];

const portedFields: Field[] = [
  str('mcc', '--mcc <mcc>', 'recipient network MCC'),
  str('mnc', '--mnc <mnc>', 'recipient network MNC'),
  time('ported_at', '--ported-at <time>', 'when the port took effect'),
  str('source', '--source <source>', 'where the record came from'),
];

const filter = (flags: string, help: string, key: string, parse: Filter['parse'] = (v) => v): Filter => ({
  flags,
  help,
  key,
  parse,
});

export const RESOURCES: ResourceSpec[] = [
  {
    name: 'accounts',
    aliases: ['account'],
    singular: 'account',
    plural: 'accounts',
    idName: 'id',
    idKey: 'id',
    field: 'account',
    listField: 'accounts',
    requestIdKey: 'id',
    codec: codec(Account),
    requests: {
      create: codec(CreateAccountRequest),
      get: codec(GetAccountRequest),
      list: codec(ListAccountsRequest),
      update: codec(UpdateAccountRequest),
      delete: codec(DeleteAccountRequest),
    },
    rpc: {
      create: 'createAccount',
      get: 'getAccount',
      list: 'listAccounts',
      update: 'updateAccount',
      delete: 'deleteAccount',
    },
    fields: accountFields,
    filters: [
      filter('--state <state>', 'only accounts in this state', 'state', (v, f) =>
        parseEnum(AccountState, 'ACCOUNT_STATE_', v, f),
      ),
    ],
    columns: [
      col('ID', 'id'),
      col('NAME', 'name'),
      col('STATE', 'state'),
      col('BILLING', 'billingMode'),
      col('CURRENCY', 'currencyCode'),
      {
        header: 'SYSTEM IDS',
        value: (r) =>
          ((r.smppCredentials as Json[] | undefined) ?? []).map((c) => String(c.systemId ?? '')).join(', '),
      },
      col('REV', 'revision'),
    ],
    examples: [
      'hubctl accounts create --name "ACME Bank" --state active --billing-mode prepaid --currency EUR --smpp acme --password-stdin <<< "$PW"',
      'hubctl accounts list --state active -o json',
      'hubctl accounts update "$ACCOUNT_ID" --state suspended',
      'hubctl accounts get "$ACCOUNT_ID" -o json > acme.json && hubctl accounts update "$ACCOUNT_ID" -f acme.json',
    ],
    checkCreate(r) {
      need(r, 'currencyCode', '--currency', 'an account');
    },
  },
  {
    name: 'connectors',
    aliases: ['connector'],
    singular: 'connector',
    plural: 'connectors',
    idName: 'id',
    idKey: 'id',
    field: 'connector',
    listField: 'connectors',
    requestIdKey: 'id',
    codec: codec(Connector),
    requests: {
      create: codec(CreateConnectorRequest),
      get: codec(GetConnectorRequest),
      list: codec(ListConnectorsRequest),
      update: codec(UpdateConnectorRequest),
      delete: codec(DeleteConnectorRequest),
    },
    rpc: {
      create: 'createConnector',
      get: 'getConnector',
      list: 'listConnectors',
      update: 'updateConnector',
      delete: 'deleteConnector',
    },
    fields: connectorFields,
    filters: [filter('--supplier <id>', 'only connectors of this supplier', 'supplierId')],
    columns: [
      col('ID', 'id'),
      col('NAME', 'name'),
      col('SUPPLIER', 'supplierId'),
      { header: 'ENABLED', value: (r) => (r.enabled === true ? 'yes' : 'no') },
      {
        header: 'BINDS',
        value: (r) =>
          ((r.binds as Json[] | undefined) ?? [])
            .map((b) => `${String(b.host ?? '')}:${String(b.port ?? '')}${b.tls ? ' (tls)' : ''}`)
            .join(', '),
      },
      col('TPS', 'maxSubmitRate'),
      col('REV', 'revision'),
    ],
    examples: [
      'hubctl connectors create con_a --name "Supplier A" --supplier sup_a --enabled --currency EUR --bind host=smsc.a.example,port=2775,system_id=hub,sessions=2 --max-submit-rate 100 --password-stdin <<< "$PW"',
      'hubctl connectors update con_a --no-enabled',
      'hubctl connectors list --supplier sup_a',
    ],
    checkCreate(r) {
      need(r, 'binds', '--bind', 'a connector');
    },
  },
  {
    name: 'routing-rules',
    aliases: ['routes', 'routing-rule'],
    singular: 'routing rule',
    plural: 'routing rules',
    idName: 'id',
    idKey: 'id',
    field: 'routingRule',
    listField: 'routingRules',
    requestIdKey: 'id',
    codec: codec(RoutingRule),
    requests: {
      create: codec(CreateRoutingRuleRequest),
      get: codec(GetRoutingRuleRequest),
      list: codec(ListRoutingRulesRequest),
      update: codec(UpdateRoutingRuleRequest),
      delete: codec(DeleteRoutingRuleRequest),
    },
    rpc: {
      create: 'createRoutingRule',
      get: 'getRoutingRule',
      list: 'listRoutingRules',
      update: 'updateRoutingRule',
      delete: 'deleteRoutingRule',
    },
    fields: routingRuleFields,
    filters: [filter('--account <id>', 'only rules that can match this account', 'accountId')],
    columns: [
      col('ID', 'id'),
      col('NAME', 'name'),
      col('PRIO', 'priority'),
      { header: 'ENABLED', value: (r) => (r.enabled === true ? 'yes' : 'no') },
      {
        header: 'STRATEGY',
        value: (r) =>
          [
            cellText(r.strategy),
            r.strategyOptions ? `(${strategyOptionsText(r.strategyOptions as Json)})` : '',
            rerouteText(r.reroute as Json | undefined),
          ]
            .filter((s) => s !== '')
            .join(' '),
      },
      {
        header: 'MATCH',
        value: (r) =>
          [
            ...((r.accountIds as string[] | undefined) ?? []).map((a) => `account ${a}`),
            ...((r.destinationPrefixes as string[] | undefined) ?? []).map((p) => `+${p}`),
            ...((r.countries as string[] | undefined) ?? []),
            ...((r.mccMncs as string[] | undefined) ?? []),
            ...((r.senders as Json[] | undefined) ?? []).map((p) => `sender ${patternText(p)}`),
            ...(r.timeWindow ? [`when ${timeWindowText(r.timeWindow as Json)}`] : []),
          ].join(', ') || 'any',
      },
      {
        header: 'TARGETS',
        value: (r) =>
          r.block === true
            ? 'BLOCK'
            : ((r.targets as Json[] | undefined) ?? [])
                .map((t) => `${String(t.connectorId ?? '')}${t.weight ? `:${String(t.weight)}` : ''}`)
                .join(', '),
      },
      {
        header: 'SENDER REWRITE',
        value: (r) => (r.senderRewrite ? senderRewriteText(r.senderRewrite as Json) : ''),
      },
      col('REV', 'revision'),
    ],
    examples: [
      'hubctl routing-rules create rr_uk --name "UK least cost" --priority 100 --enabled --prefix 44 --strategy least-cost --strategy-currency EUR --target con_a --target con_b',
      'hubctl routes update rr_uk --strategy weighted --target con_a:70 --target con_b:30',
      "hubctl routes create rr_acme_de --prefix 49 --target con_a --sender 'ACME*' --sender '/^\\d{5}$/' --time-window 'tz=Europe/Berlin,days=mon-fri,hours=08:00-20:00' --sender-rewrite ACME",
      'hubctl routes update rr_de --strategy score --strategy-currency EUR --strategy-option weight_quality=0.6,weight_cost=0.3,weight_latency=0.1 --strategy-option min_samples=50',
      'hubctl routes update rr_acme_de --clear time_window,sender_rewrite',
    ],
    checkCreate(r) {
      if (r.block !== true) need(r, 'targets', '--target', 'a routing rule (unless --block)');
    },
  },
  {
    name: 'firewall-rules',
    aliases: ['firewall', 'firewall-rule'],
    singular: 'firewall rule',
    plural: 'firewall rules',
    idName: 'id',
    idKey: 'id',
    field: 'firewallRule',
    listField: 'firewallRules',
    requestIdKey: 'id',
    codec: codec(FirewallRule),
    requests: {
      create: codec(CreateFirewallRuleRequest),
      get: codec(GetFirewallRuleRequest),
      list: codec(ListFirewallRulesRequest),
      update: codec(UpdateFirewallRuleRequest),
      delete: codec(DeleteFirewallRuleRequest),
    },
    rpc: {
      create: 'createFirewallRule',
      get: 'getFirewallRule',
      list: 'listFirewallRules',
      update: 'updateFirewallRule',
      delete: 'deleteFirewallRule',
    },
    fields: firewallFields,
    filters: [filter('--account <id>', 'only rules that can match this account', 'accountId')],
    columns: [
      col('ID', 'id'),
      col('NAME', 'name'),
      col('PRIO', 'priority'),
      { header: 'ENABLED', value: (r) => (r.enabled === true ? 'yes' : 'no') },
      col('ACTION', 'action'),
      col('KIND', 'kind'),
      col('REV', 'revision'),
    ],
    examples: [
      'hubctl firewall-rules create fw_premium --name "premium range" --enabled --action block --prefix 4490',
      'hubctl firewall-rules create fw_velocity --enabled --action block --kind velocity_account --params \'{"limit":100,"windowSeconds":60}\'',
      "hubctl firewall-rules create fw_spoof --enabled --action block --sender 'PayPal*' --sender '/^paypa[1l]$/i'",
    ],
    checkCreate(r) {
      need(r, 'action', '--action', 'a firewall rule');
    },
  },
  {
    name: 'rates',
    aliases: ['rate'],
    singular: 'rate',
    plural: 'rates',
    idName: 'id',
    idKey: 'id',
    field: 'rate',
    listField: 'rates',
    requestIdKey: 'id',
    codec: codec(Rate),
    requests: {
      create: codec(CreateRateRequest),
      get: codec(GetRateRequest),
      list: codec(ListRatesRequest),
      update: codec(UpdateRateRequest),
      delete: codec(DeleteRateRequest),
    },
    rpc: {
      create: 'createRate',
      get: 'getRate',
      list: 'listRates',
      update: 'updateRate',
      delete: 'deleteRate',
    },
    fields: rateFields,
    helperOptions: [{ flags: '--currency <code>', help: 'currency of --price (ISO 4217)' }],
    filters: [
      filter('--direction <dir>', 'sell or buy', 'direction', (v, f) =>
        parseEnum(RateDirection, 'RATE_DIRECTION_', v, f),
      ),
      filter('--party <id>', 'account id (sell) or connector id (buy)', 'partyId'),
      filter('--prefix <digits>', 'only rates whose prefix starts with these digits', 'destinationPrefix'),
      filter('--valid-at <time>', 'only rates valid at this time', 'validAt', (v, f) => parseTime(v, f)),
    ],
    columns: [
      col('ID', 'id'),
      col('DIR', 'direction'),
      col('INBOUND', 'inbound'),
      {
        header: 'PARTY',
        value: (r) => cellText(r.partyId) || (r.pricePlanId ? `plan ${cellText(r.pricePlanId)}` : ''),
      },
      {
        header: 'DESTINATION',
        value: (r) =>
          r.destinationPrefix
            ? `+${cellText(r.destinationPrefix)}`
            : cellText(r.mccMnc) || cellText(r.countryCode),
      },
      col('TRAFFIC', 'trafficType'),
      col('PRICE', 'price'),
      col('FROM', 'validFrom'),
      col('UNTIL', 'validUntil'),
      col('REV', 'revision'),
    ],
    examples: [
      'hubctl rates create r_acme_44 --direction sell --party acme --prefix 44 --price 0.0345 --currency EUR --valid-from 2026-01-01',
      'hubctl rates list --direction buy --party con_a --valid-at now',
      'hubctl rates create r_std_mo_44 --direction sell --price-plan std --prefix 44 --inbound --price 0.005 --currency EUR',
      'hubctl rates import deck.csv --replace-all --party acme --dry-run',
    ],
    checkCreate(r) {
      need(r, 'direction', '--direction', 'a rate');
      need(r, 'price', '--price', 'a rate');
    },
  },
  {
    name: 'prefixes',
    aliases: ['number-prefixes', 'prefix'],
    singular: 'number prefix',
    plural: 'number prefixes',
    idName: 'prefix',
    idKey: 'prefix',
    field: 'numberPrefix',
    listField: 'numberPrefixes',
    requestIdKey: 'prefix',
    codec: codec(NumberPrefix),
    requests: {
      create: codec(CreateNumberPrefixRequest),
      get: codec(GetNumberPrefixRequest),
      list: codec(ListNumberPrefixesRequest),
      update: codec(UpdateNumberPrefixRequest),
      delete: codec(DeleteNumberPrefixRequest),
    },
    rpc: {
      create: 'createNumberPrefix',
      get: 'getNumberPrefix',
      list: 'listNumberPrefixes',
      update: 'updateNumberPrefix',
      delete: 'deleteNumberPrefix',
    },
    fields: prefixFields,
    filters: [
      filter('--starts-with <digits>', 'only prefixes starting with these digits', 'prefixStartsWith'),
      filter('--country <cc>', 'only this country', 'countryCode', (v) => v.toUpperCase()),
    ],
    columns: [
      col('PREFIX', 'prefix'),
      col('COUNTRY', 'countryCode'),
      col('MCC', 'mcc'),
      col('MNC', 'mnc'),
      col('NETWORK', 'networkName'),
      col('REV', 'revision'),
    ],
    examples: [
      'hubctl prefixes create 447700 --country GB --mcc 234 --mnc 15 --network Vodafone',
      'hubctl prefixes import prefixes.csv --replace-all',
    ],
    checkCreate(r) {
      need(r, 'countryCode', '--country', 'a number prefix');
    },
  },
  {
    name: 'ported-numbers',
    aliases: ['ported', 'ported-number'],
    singular: 'ported number',
    plural: 'ported numbers',
    idName: 'msisdn',
    idKey: 'msisdn',
    field: 'portedNumber',
    listField: 'portedNumbers',
    requestIdKey: 'msisdn',
    codec: codec(PortedNumber),
    requests: {
      create: codec(CreatePortedNumberRequest),
      get: codec(GetPortedNumberRequest),
      list: codec(ListPortedNumbersRequest),
      update: codec(UpdatePortedNumberRequest),
      delete: codec(DeletePortedNumberRequest),
    },
    rpc: {
      create: 'createPortedNumber',
      get: 'getPortedNumber',
      list: 'listPortedNumbers',
      update: 'updatePortedNumber',
      delete: 'deletePortedNumber',
    },
    fields: portedFields,
    filters: [
      filter('--starts-with <digits>', 'only numbers starting with these digits', 'msisdnStartsWith'),
    ],
    columns: [
      col('MSISDN', 'msisdn'),
      col('MCC', 'mcc'),
      col('MNC', 'mnc'),
      col('PORTED AT', 'portedAt'),
      col('SOURCE', 'source'),
      col('REV', 'revision'),
    ],
    examples: [
      'hubctl ported-numbers create 447700900123 --mcc 234 --mnc 30 --ported-at 2026-03-01',
      'hubctl ported-numbers import ported.csv',
    ],
    checkCreate(r) {
      need(r, 'mcc', '--mcc', 'a ported number');
      need(r, 'mnc', '--mnc', 'a ported number');
    },
  },
];

/** The resource (TypeScript form) from a file's JSON and the flags (flags win), with its id. */
export function buildResource(spec: ResourceSpec, id: string, file: unknown, flags: FlagValues): Json {
  const fromFile = file === undefined ? {} : (spec.codec.fromJSON(file) as Json);
  return spec.codec.fromPartial({ ...fromFile, ...flags, [spec.idKey]: id }) as Json;
}
