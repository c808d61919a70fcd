// Placeholder until this command is implemented (it is being built in its own issue).
export async function circuitCommand(_argv: string[]): Promise<number> {
  console.error('sharehold circuit: not implemented yet');
  return 2;
}
