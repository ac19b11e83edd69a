// The hubctl program: global options, the command tree, and one exit code per run.
import { Command, CommanderError, Option } from 'commander';
import { adminCommands } from './commands/admin.js';
import { apiKeyCommands } from './commands/api-keys.js';
import { deadLetterCommands } from './commands/dead-letters.js';
import { liveCommands } from './commands/live.js';
import { messageCommands } from './commands/messages.js';
import { numberCommands } from './commands/numbers.js';
import { optOutCommands } from './commands/opt-outs.js';
import { probeCommands } from './commands/probes.js';
import { quietHoursCommands } from './commands/quiet-hours.js';
import { securityCommands } from './commands/security.js';
import { settlementCommands } from './commands/settlement.js';
import { routingCommands } from './commands/routing.js';
import { statsCommands } from './commands/stats.js';
import { webhookCommands } from './commands/webhooks.js';
import { Session, type Deps } from './context.js';
import { CliError, EXIT } from './exit-codes.js';
import { DEFAULT_ADDRESSES } from './rpc.js';

export const VERSION = '0.1.0';

const EXIT_HELP = `
Output:
  -o table (default) prints tables for people; -o json prints the proto3 JSON mapping of the API's messages:
  lowerCamelCase names, 64-bit integers as strings, Money as {"currencyCode","minorUnits" (string),"scale"},
  enums by full name, times in RFC 3339, fields at their default value omitted.

Environment:
  HUBCTL_ADMIN_ADDR       admin API (default ${DEFAULT_ADDRESSES.admin})
  HUBCTL_MESSAGES_ADDR    dlr's MessageService (default ${DEFAULT_ADDRESSES.messages})
  HUBCTL_SETTLEMENT_ADDR  rating's SettlementService (default ${DEFAULT_ADDRESSES.settlement})
  HUBCTL_WEBHOOKS_ADDR    the webhooks service's WebhookService (default ${DEFAULT_ADDRESSES.webhooks})
  HUBCTL_STATS_ADDR       the stats service's StatsService (default ${DEFAULT_ADDRESSES.stats})
  HUBCTL_ROUTING_ADDR     a routing replica's RoutingService (default ${DEFAULT_ADDRESSES.routing})
  HUB_PORT_OFFSET         added to the default ports (a local hub started with it; npm run hubctl sets it)
  HUBCTL_TOKEN            bearer token (else ADMIN_TOKEN); never printed
  HUBCTL_TLS, HUBCTL_CA   TLS, and the CA file that signed the servers' certificates
  HUBCTL_OUTPUT           table or json (csv: stats commands)
  HUBCTL_TIMEOUT          seconds per call (default 30)

Exit codes:
  0 ok, 1 not found / conflict / other failure, 64 usage, 65 invalid data (rejected by the server or a bad
  file), 66 input file unreadable, 69 server unreachable or no answer, 73 output file not writable,
  75 changed meanwhile (revision conflict) or overloaded: retry, 77 authentication or permission refused.
`;

function allCommands(cmd: Command): Command[] {
  return [cmd, ...cmd.commands.flatMap(allCommands)];
}

/** Builds the program; `deps` gives it the process streams and the network (faked in unit tests). */
export function buildProgram(deps: Deps, session: Session): Command {
  const program = new Command('hubctl')
    .description(
      'Operator CLI for smshub: accounts, connectors, routes, rates, number data, balances, message timelines and settlement.',
    )
    .version(VERSION, '-V, --version')
    .addOption(
      new Option('-o, --output <format>', 'table or json (csv: stats commands)').choices([
        'table',
        'json',
        'csv',
      ]),
    )
    .option('--admin-addr <host:port>', 'admin API address (env HUBCTL_ADMIN_ADDR)')
    .option('--messages-addr <host:port>', "dlr's MessageService address (env HUBCTL_MESSAGES_ADDR)")
    .option(
      '--settlement-addr <host:port>',
      "rating's SettlementService address (env HUBCTL_SETTLEMENT_ADDR)",
    )
    .option('--webhooks-addr <host:port>', "the webhooks service's address (env HUBCTL_WEBHOOKS_ADDR)")
    .option('--stats-addr <host:port>', "the stats service's address (env HUBCTL_STATS_ADDR)")
    .option('--routing-addr <host:port>', "a routing replica's address (env HUBCTL_ROUTING_ADDR)")
    .option('--token <token>', 'bearer token (env HUBCTL_TOKEN or ADMIN_TOKEN; the env is safer than a flag)')
    .option('--tls', 'connect with TLS (env HUBCTL_TLS=true)')
    .option('--ca <file>', 'CA certificate (PEM) for TLS; implies --tls (env HUBCTL_CA)')
    .option(
      '--tls-server-name <name>',
      "name the server's certificate must hold when it is not the address's host; implies --tls (env HUBCTL_TLS_SERVER_NAME)",
    )
    .option('--timeout <seconds>', 'deadline of each call (env HUBCTL_TIMEOUT, default 30)')
    .addHelpText('after', EXIT_HELP);

  adminCommands(session, program);
  liveCommands(session, program);
  messageCommands(session, program);
  settlementCommands(session, program);
  securityCommands(session, program);
  apiKeyCommands(session, program);
  webhookCommands(session, program);
  optOutCommands(session, program);
  quietHoursCommands(session, program);
  deadLetterCommands(session, program);
  probeCommands(session, program);
  statsCommands(session, program);
  routingCommands(session, program);
  numberCommands(session, program);

  for (const c of allCommands(program)) {
    c.exitOverride();
    c.configureOutput({
      writeOut: (s) => deps.io.stdout.write(s),
      writeErr: (s) => deps.io.stderr.write(s),
      outputError: (s, write) => write(s.replace(/^error: /, 'hubctl: ')),
    });
    c.configureHelp({ showGlobalOptions: true, sortSubcommands: false });
  }
  return program;
}

/** Runs hubctl with `argv` (without node and the script); resolves with the exit code. */
export async function run(argv: string[], deps: Deps): Promise<number> {
  const session = new Session(deps);
  const program = buildProgram(deps, session);
  try {
    if (argv.length === 0) {
      program.outputHelp();
      return EXIT.USAGE;
    }
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.OK;
      if (err.code === 'commander.help') return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
      // commander already printed its message; a command group without a subcommand prints its help.
      return EXIT.USAGE;
    }
    if (err instanceof CliError) {
      deps.io.stderr.write(`hubctl: ${err.message}\n`);
      return err.exitCode;
    }
    deps.io.stderr.write(`hubctl: unexpected failure: ${err instanceof Error ? err.message : String(err)}\n`);
    if (deps.io.env.HUBCTL_DEBUG && err instanceof Error && err.stack) deps.io.stderr.write(`${err.stack}\n`);
    return EXIT.FAILURE;
  } finally {
    session.close();
  }
}
