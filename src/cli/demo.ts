// Placeholder until this command is implemented (it is being built in its own issue).
export async function demoCommand(_argv: string[]): Promise<number> {
  console.error('sharehold demo: not implemented yet');
  return 2;
}
