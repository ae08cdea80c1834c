// Injected into the CommonJS bundle (scripts/bundle.ts): what `import.meta.url` and
// `import.meta.dirname` are in an ES module, for the sources that locate files beside themselves.
import { pathToFileURL } from 'node:url'

export const importMetaUrl = pathToFileURL(__filename).href
export const importMetaDirname = __dirname
