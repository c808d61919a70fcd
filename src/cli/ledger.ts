// Placeholder until this command is implemented (it is being built in its own issue).
export async function ledgerCommand(_argv: string[]): Promise<number> {
  console.error('sharehold ledger: not implemented yet');
  return 2;
}
