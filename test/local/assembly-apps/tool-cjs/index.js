// A Lambda tool shipped as a plain CommonJS asset (lambda.Code.fromAsset), handler `index.greet`.
/* global exports */
exports.greet = async (event) => ({ greeting: `${process.env.GREETING}, ${event.input.name}` });
