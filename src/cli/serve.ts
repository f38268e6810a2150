import { SERVER_SETTINGS } from './settings';
import type { Command } from './command';

function settingsTable(): string {
  const width = Math.max(...SERVER_SETTINGS.map((setting) => setting.name.length));
  return SERVER_SETTINGS.map(
    (setting) => `  ${setting.name.padEnd(width)}  ${setting.meaning} (default: ${setting.default})`,
  ).join('\n');
}

/** `devlake-webhook serve`: the standalone server, configured by environment variables. */
export const serveCommand: Command = {
  name: 'serve',
  summary: 'start the standalone server (the default command)',
  usage: () =>
    [
      'Usage: devlake-webhook [serve]',
      '',
      'Starts the DevLake-compatible webhook server: the API at /api/plugins/webhook (and DevLake’s',
      'other prefixes), Swagger UI at /api/swagger, the admin page at /. It migrates the database',
      'on start and stops cleanly on SIGTERM or SIGINT.',
      '',
      'Settings (environment variables):',
      settingsTable(),
      '',
      'Installed from npm, the database driver comes separately: npm install better-sqlite3 (SQLite), mysql2 (MySQL) or pg (PostgreSQL).',
      'Example: DB_URL=mysql://root@127.0.0.1:3306/devlake ADMIN_USER=admin ADMIN_PASS=... devlake-webhook',
    ].join('\n'),
  run: async (args) => {
    if (args.length > 0) {
      throw new Error(
        `serve takes no arguments (got "${args[0]}"); its settings are environment variables, see --help`,
      );
    }
    const { main } = await import('../server/main');
    await main();
  },
};
