/**
 * Text files an agent entry imports: `import instructions from './instructions.md'`.
 * AgentCode.fromEntry bundles `.md` and `.txt` files as their UTF-8 text.
 */
declare module '*.md' {
  const text: string;
  export default text;
}

declare module '*.txt' {
  const text: string;
  export default text;
}
