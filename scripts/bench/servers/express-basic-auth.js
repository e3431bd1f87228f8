// The naive peer: express 5 with express-basic-auth as its README shows (`challenge: true`, which
// its README adds so browsers ask for a password), express's defaults otherwise.
import https from 'node:https'

import express from 'express'
import basicAuth from 'express-basic-auth'

import {listen, serverOptions} from './options.js'

const {tls, username, password, message} = serverOptions()

const app = express()
app.use(basicAuth({users: {[username]: password}, challenge: true}))
app.get('/api/secret', (_req, res) => {
  res.json({message})
})
listen(https.createServer(tls, app))
