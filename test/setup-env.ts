// The SDK warns once per process that releases after early 2027 need Node 22; tests pin
// versions that run on this Node 20, so the warning is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
