/* Client-side subcommands of the eventodb binary (docs/configuration.md#commands).
 * main() hands over everything after the command word: argv[0] is the
 * command name itself ("export" / "import"), like a program name. They
 * return the process exit status. */
#ifndef GW_CLI_H
#define GW_CLI_H

int			cli_export_main(int argc, char **argv);
int			cli_import_main(int argc, char **argv);

#endif
