// Placeholder until this command is implemented (it is being built in its own issue).
export async function benchCommand(_argv: string[]): Promise<number> {
  console.error('sharehold bench: not implemented yet');
  return 2;
}
