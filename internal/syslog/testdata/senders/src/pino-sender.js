// pino-sender.js sends the capture messages through pino-syslog, piped
// into pino-socket as pino-syslog's README shows.
// Usage: node pino-sender.js PORT MODE FORMAT NEWLINE MESSAGEONLY [SD]
//   MODE udp|tcp, FORMAT 3164|5424, NEWLINE and MESSAGEONLY true|false,
//   SD an RFC 5424 structured-data string for every message.
'use strict'
const pino = require('pino')
const [port, mode, format, newline, messageOnly, sd] = process.argv.slice(2)
const transport = pino.transport({
  pipeline: [
    {
      target: 'pino-syslog',
      options: {
        modern: format === '5424', appname: 'myapp', newline: newline === 'true',
        messageOnly: messageOnly === 'true', structuredData: sd || '-'
      }
    },
    { target: 'pino-socket', options: { mode, address: '127.0.0.1', port: Number(port) } }
  ]
})
const log = pino({ level: 'trace', base: { pid: process.pid, hostname: 'vmhost' } }, transport)
log.info('m01 plain message')
log.info('m02 non-ASCII: grüße, naïve café, 日本語, emoji 🚀')
log.info('')
for (const l of ['trace', 'debug', 'info', 'warn', 'error', 'fatal']) {
  log[l](`m03 level ${l}`)
}
log.info('m11 first line\nsecond line\n3 jobs failed\n\tat third')
const err = new Error('m12 request failed')
log.error(err.stack)
transport.on('close', () => process.exit(0))
setTimeout(() => transport.end(), 1000)
setTimeout(() => process.exit(0), 5000)
