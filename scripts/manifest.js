#!/usr/bin/env node
// Writes oclif.manifest.json from the built commands in dist/, as `oclif manifest` does (the oclif
// dev package's own command builds it with @oclif/core's Plugin the same way). With the manifest,
// oclif lists commands and prints --help and --version without importing every command module.
// Run by `npm run build`; never committed (.gitignore), so it cannot go stale in the tree.
import {writeFile} from 'node:fs/promises'
import {fileURLToPath} from 'node:url'

import {Plugin} from '@oclif/core'

const root = fileURLToPath(new URL('..', import.meta.url))
const plugin = new Plugin({root, type: 'core', ignoreManifest: true, errorOnManifestCreate: true})
await plugin.load()
await writeFile(
  new URL('../oclif.manifest.json', import.meta.url),
  JSON.stringify(plugin.manifest, null, 2) + '\n',
)
