#!/usr/bin/env node
// `npm pack` and `npm publish` ship package.json as it is on disk after `prepack`. A clone needs
// `prepare` (a fresh clone's `npm install` builds dist/ with it), but in the tarball it would be an
// install-time script, which npm 11 warns about when the tarball is installed (dist/ is already built).
// So `prepack` (after the build) writes package.json without it and keeps the original beside it;
// `postpack` moves the original back. A pack stopped between the two leaves that copy: the next
// build (prebuild) or pack puts it back first, so package.json is never left changed for good.
//
//   node scripts/pack-package-json.js strip     package.json without `prepare`, the original kept
//   node scripts/pack-package-json.js restore   the original back, if a pack left it
import {promises as fs} from 'node:fs'
import {fileURLToPath} from 'node:url'

const packageJson = fileURLToPath(new URL('../package.json', import.meta.url))
const original = `${packageJson}.before-pack`

/** Puts back the package.json a pack replaced, in one rename; nothing to do when no pack left one. */
async function restore() {
  await fs.rename(original, packageJson).catch((error) => {
    if (error.code !== 'ENOENT') throw error
  })
}

/** Writes the package.json to pack: the original without its `prepare` script, which stays in the copy. */
async function strip() {
  await restore()
  const text = await fs.readFile(packageJson, 'utf8')
  const {prepare: _prepare, ...scripts} = JSON.parse(text).scripts
  await fs.writeFile(original, text)
  const packed = `${packageJson}.packed`
  await fs.writeFile(packed, JSON.stringify({...JSON.parse(text), scripts}, null, 2) + '\n')
  await fs.rename(packed, packageJson)
}

const actions = {strip, restore}
const action = actions[process.argv[2]]
if (!action) {
  console.error('Usage: node scripts/pack-package-json.js strip|restore')
  process.exit(2)
}
await action()
