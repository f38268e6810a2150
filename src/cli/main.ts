#!/usr/bin/env node
import type { Command } from './command';
import { importCommand } from './import';
import { serveCommand } from './serve';

/** The subcommands; the first is what `devlake-webhook` alone runs. Add new ones here. */
export const COMMANDS: readonly Command[] = [serveCommand, importCommand];

function overview(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  return [
    'Usage: devlake-webhook [command] [--help]',
    '',
    'Commands:',
    ...COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    `devlake-webhook <command> --help shows a command's usage.`,
    '',
    COMMANDS[0].usage(),
  ].join('\n');
}

const isHelp = (arg: string | undefined) => arg === '--help' || arg === '-h' || arg === 'help';

/** Picks the command named by the first argument (the default one when none is) and runs it. */
export async function run(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first.startsWith('-')) {
    if (isHelp(first)) {
      process.stdout.write(`${overview()}\n`);
      return 0;
    }
    if (first !== undefined) {
      process.stderr.write(`devlake-webhook: unknown option ${first}; see devlake-webhook --help\n`);
      return 2;
    }
    await COMMANDS[0].run([]);
    return 0;
  }
  if (isHelp(first)) {
    const named = COMMANDS.find((command) => command.name === rest[0]);
    process.stdout.write(`${named ? named.usage() : overview()}\n`);
    return 0;
  }
  const command = COMMANDS.find((candidate) => candidate.name === first);
  if (!command) {
    process.stderr.write(`devlake-webhook: unknown command "${first}"; see devlake-webhook --help\n`);
    return 2;
  }
  if (rest.some((arg) => isHelp(arg))) {
    process.stdout.write(`${command.usage()}\n`);
    return 0;
  }
  await command.run(rest);
  return 0;
}

if (require.main === module) {
  run(process.argv.slice(2)).then(
    (code) => {
      if (code !== 0) process.exit(code);
    },
    (error: unknown) => {
      process.stderr.write(`devlake-webhook: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
