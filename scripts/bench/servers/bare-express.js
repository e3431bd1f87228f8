// The express floor: express 5, one auth middleware (timingSafeEqual on the header), the JSON route,
// etag and x-powered-by off.
import https from 'node:https'

import express from 'express'

import {authenticateBody, authorizationCheck, challengeHeaders} from './header-check.js'
import {listen, serverOptions} from './options.js'

const {tls, username, password, message} = serverOptions()
const isAuthorized = authorizationCheck(username, password)

const app = express()
app.set('etag', false)
app.disable('x-powered-by')
app.use(function requireAuth(req, res, next) {
  if (isAuthorized(req.headers.authorization)) return next()
  res.status(401).set(challengeHeaders).json(authenticateBody)
})
app.get('/api/secret', (_req, res) => {
  res.json({message})
})
listen(https.createServer(tls, app))
