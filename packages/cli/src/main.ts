/** The `vhost-user` command line: dispatches to one module per subcommand. */
export async function main(argv: string[]): Promise<number> {
  const [command] = argv;
  console.error(`vhost-user: unknown command ${command ?? '(none)'}`);
  return 2;
}
