/** Build step: the local deployment's web page ships beside its compiled front door (dist/local/web), which reads it at start. */
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.join(__dirname, '..');
fs.cpSync(path.join(root, 'local', 'web'), path.join(root, 'dist', 'local', 'web'), { recursive: true });
