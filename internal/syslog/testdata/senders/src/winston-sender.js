// winston-sender.js sends the capture messages through winston-syslog.
// Usage: node winston-sender.js PORT PROTOCOL TYPE [EOL]
//   PROTOCOL udp4|tcp4, TYPE BSD|5424, EOL "lf" sets eol: "\n".
// The format prints the message text (and an error's stack), as most
// applications configure it; winston's default would send JSON.
'use strict'
const winston = require('winston')
require('winston-syslog')
const [port, protocol, type, eol] = process.argv.slice(2)
const transport = new winston.transports.Syslog({
  host: '127.0.0.1', port: Number(port), protocol, type, appName: 'myapp',
  localhost: 'vmhost', eol: eol === 'lf' ? '\n' : undefined
})
const logger = winston.createLogger({
  levels: winston.config.syslog.levels,
  level: 'debug',
  format: winston.format.combine(winston.format.errors({ stack: true }),
    winston.format.printf(i => i.stack ? `${i.message}\n${i.stack}` : i.message)),
  transports: [transport]
})
logger.info('m01 plain message')
logger.info('m02 non-ASCII: grüße, naïve café, 日本語, emoji 🚀')
logger.info('')
for (const l of ['debug', 'info', 'notice', 'warning', 'error', 'crit', 'alert', 'emerg']) {
  logger.log(l, `m03 level ${l}`)
}
logger.info('m11 first line\nsecond line\n3 jobs failed\n\tat third')
logger.error(new Error('m12 request failed'))
// winston-syslog gives no reliable signal that a message is on the wire
// (its "logged" event does not fire for every message), so close after
// 3 s, and exit: its reconnect timer would keep node alive.
setTimeout(() => { transport.close(); logger.close() }, 3000)
setTimeout(() => process.exit(0), 5000)
