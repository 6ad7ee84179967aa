// Log4jSender sends the capture messages through Log4j 2's SyslogAppender,
// configured by the file that -Dlog4j.configurationFile names (written by
// scripts/capture-senders.sh).
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.logging.log4j.message.StructuredDataMessage;

public class Log4jSender {
    public static void main(String[] args) {
        Logger log = LogManager.getLogger("netlog.capture");
        log.info("m01 plain message");
        log.info("m02 non-ASCII: grüße, naïve café, 日本語, emoji \uD83D\uDE80");
        log.info("");
        log.trace("m04 level trace");
        log.debug("m05 level debug");
        log.info("m06 level info");
        log.warn("m07 level warn");
        log.error("m08 level error");
        log.fatal("m09 level fatal");
        StructuredDataMessage sd = new StructuredDataMessage("exampleSDID@32473", "m10 with structured data", "Audit");
        sd.put("iut", "3");
        sd.put("eventSource", "Application");
        log.info(sd);
        log.info("m11 first line\nsecond line\n3 jobs failed\n\tat third");
        log.error("m12 request failed", new IllegalStateException("boom", new RuntimeException("root cause")));
        LogManager.shutdown();
    }
}
