// Jest's counterpart of esbuild's text loader: a .md or .txt module is its UTF-8 text, as AgentCode bundles it.
module.exports = {
  process: (source) => ({ code: `module.exports = ${JSON.stringify(source)};` }),
};
