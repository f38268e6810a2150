/** One subcommand of the `devlake-webhook` command line. */
export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** The full `--help` text of the command. */
  usage(): string;
  /** Runs the command with the arguments after its name. */
  run(args: string[]): Promise<void>;
}
