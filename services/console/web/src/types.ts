// Shapes of the console API's answers, typed against the generated contracts (see json.ts).
import type {
  Account,
  AccountBalance,
  BreakdownRow,
  Connector,
  DeadLetterEntry,
  DeadLetterGroup,
  FirewallRule,
  GetBreakdownResponse,
  GetSeriesResponse,
  GetSummaryResponse,
  MessageSummary,
  ReplayDeadLettersResponse,
  RoutingRule,
  SettlementTotal,
  StatsValues,
  TopUp,
} from '@smshub/contracts';
import type { Json } from './json';

export type Page =
  'overview' | 'connectors' | 'messages' | 'accounts' | 'routing' | 'settlement' | 'deadletters';
export type Action =
  | 'connectors.toggle'
  | 'routing.edit'
  | 'accounts.topup'
  | 'accounts.credit'
  | 'money.read'
  | 'deadletters.replay';

export type AccountJ = Json<Account>;
export type BalanceJ = Json<AccountBalance>;
export type TopUpJ = Json<TopUp>;
export type ConnectorJ = Json<Connector>;
export type RoutingRuleJ = Json<RoutingRule>;
export type FirewallRuleJ = Json<FirewallRule>;
export type SummaryJ = Json<MessageSummary>;
export type SeriesJ = Json<GetSeriesResponse>;
export type StatsSummaryJ = Json<GetSummaryResponse>;
export type BreakdownJ = Json<GetBreakdownResponse>;
export type BreakdownRowJ = Json<BreakdownRow>;
export type ValuesJ = Json<StatsValues>;
export type SettlementTotalJ = Json<SettlementTotal>;

export interface TimelineItem {
  topic: string;
  time: string | null;
  kind: string;
  summary: string;
  detail: unknown;
}
export interface MessageViewJ {
  summary: SummaryJ | null;
  timeline: TimelineItem[];
}
export type DeadLetterGroupJ = Json<DeadLetterGroup>;
export type DeadLetterJ = Json<DeadLetterEntry>;
export type ReplayResultJ = Json<ReplayDeadLettersResponse>;
