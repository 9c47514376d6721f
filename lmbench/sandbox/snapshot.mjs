// Writes a memory snapshot of a freshly started Pyodide, for faster sandbox starts.
// Run by `python -m lmbench.sandbox install` with read access to the Pyodide folder and
// write access to the snapshot file only.
const [pyodideDir, target] = Deno.args;
const { loadPyodide } = await import(pyodideDir + "/pyodide.mjs");
const pyodide = await loadPyodide({
  indexURL: pyodideDir + "/",
  env: { HOME: "/home/pyodide" },
  _makeSnapshot: true,
});
pyodide.runPython("import json, linecache, traceback, pyodide.code");
Deno.writeFileSync(target, pyodide.makeMemorySnapshot());
