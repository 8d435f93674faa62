/**
 * Watches an app's sources for `agentctl local --watch`: each directory
 * under the app's has a watcher of its own, and the directories `skip`
 * names (node_modules, .git, the assembly's output) have none. Node 20's
 * recursive fs.watch on Linux walks every directory before it returns,
 * node_modules included (3 s for this repository, with the event loop
 * blocked), and then every asset directory each synthesis writes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Calls `changed` with the path (relative to `root`) of each file or
 * directory created, changed or removed under `root`, except under what
 * `skip` refuses; directories created later are watched too. Returns a
 * function that stops watching.
 */
export function watchSources(root: string, skip: (relativePath: string) => boolean, changed: (relativePath: string) => void): () => void {
  const watchers = new Map<string, fs.FSWatcher>();
  const unwatch = (directory: string) => {
    watchers.get(directory)?.close();
    watchers.delete(directory);
  };
  const watch = (directory: string) => {
    if (watchers.has(directory)) return;
    let watcher: fs.FSWatcher;
    try {
      watcher = fs.watch(directory, (_event, name) => {
        if (!name) return;
        const file = path.join(directory, name.toString());
        const relative = path.relative(root, file);
        if (skip(relative)) return;
        if (isDirectory(file)) watch(file);
        else unwatch(file);
        changed(relative);
      });
    } catch {
      // Removed before it could be watched: its parent's watcher reported it.
      return;
    }
    // A watched directory that is removed ends its watcher with an error on some platforms.
    watcher.on('error', () => unwatch(directory));
    watchers.set(directory, watcher);
    for (const entry of subdirectories(directory)) {
      const child = path.join(directory, entry);
      if (!skip(path.relative(root, child))) watch(child);
    }
  };
  watch(root);
  return () => {
    for (const directory of [...watchers.keys()]) unwatch(directory);
  };
}

function isDirectory(file: string): boolean {
  try {
    return fs.lstatSync(file).isDirectory();
  } catch {
    return false;
  }
}

function subdirectories(directory: string): string[] {
  try {
    return fs
      .readdirSync(directory, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
  } catch {
    return [];
  }
}
