// The least a client can do to fetch the secret: node:https, trusting the CA, Basic auth from the
// environment. Usage: BENCH_PASSWORD=… node https-client.js <url> <ca.pem> <user>
import {readFileSync} from 'node:fs'
import https from 'node:https'

const [url, caFile, username] = process.argv.slice(2)
const authorization = `Basic ${Buffer.from(`${username}:${process.env.BENCH_PASSWORD}`).toString('base64')}`
https
  .get(url, {ca: readFileSync(caFile), headers: {authorization}}, (response) => {
    let body = ''
    response.setEncoding('utf8')
    response.on('data', (chunk) => (body += chunk))
    response.on('end', () => {
      if (response.statusCode !== 200) process.exitCode = 1
      console.log(JSON.parse(body).message)
    })
  })
  .on('error', (error) => {
    console.error(error.message)
    process.exitCode = 1
  })
