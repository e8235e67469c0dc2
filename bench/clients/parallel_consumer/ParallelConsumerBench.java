/*
 * The benchmark's Confluent Parallel Consumer client: consumes a topic from earliest with a fresh
 * group, with the JavaScript clients' fetch settings (maxWait 500 ms, min bytes 1, 10 MiB per
 * fetch, 1 MiB per partition), the given ordering and maxConcurrency, and a handler that calls the
 * benchmark's wait service on 127.0.0.1 (a request line with the wait in ms, answered "\n" that
 * much later; one blocking connection per handler thread) and then sums the value's size. Commit mode is
 * the library's default. It speaks bench/clients/report.mjs's line protocol on stdout (the window
 * runs from the first handler call's start to the end of the expected last one) and exits when
 * its stdin closes.
 *
 *   java -cp <class path> ParallelConsumerBench <brokers> <topic> <group> <expected>
 *     KEY|UNORDERED|PARTITION <maxConcurrency> <handler wait ms> <wait service port>
 */
import io.confluent.parallelconsumer.ParallelConsumerOptions;
import io.confluent.parallelconsumer.ParallelConsumerOptions.ProcessingOrder;
import io.confluent.parallelconsumer.ParallelEoSStreamProcessor;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

public final class ParallelConsumerBench {
  private ParallelConsumerBench() {}

  /** Prints one protocol line: {"bench": event, ...fields}; fields are pre-rendered JSON. */
  private static synchronized void emit(String event, String fields) {
    System.out.println("{\"bench\":\"" + event + "\"" + fields + "}");
    System.out.flush();
  }

  private static void fail(Throwable error) {
    String message = String.valueOf(error).replace("\\", "\\\\").replace("\"", "\\\"")
        .replace("\n", "\\n");
    emit("error", ",\"message\":\"" + message + "\"");
    System.exit(1);
  }

  private static Properties consumerProperties(String brokers, String group) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, "bench-parallel-consumer");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    // The Parallel Consumer commits itself; Kafka's auto-commit must be off.
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.FETCH_MIN_BYTES_CONFIG, "1");
    p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "500");
    p.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, String.valueOf(10 * 1024 * 1024));
    p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, String.valueOf(1024 * 1024));
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    return p;
  }

  /** One handler thread's connection to the wait service: one request on it at a time. */
  private static final class ServiceLine {
    private final Socket socket;
    private final OutputStream out;
    private final InputStream in;

    ServiceLine(int port) throws IOException {
      socket = new Socket("127.0.0.1", port);
      socket.setTcpNoDelay(true);
      out = socket.getOutputStream();
      in = socket.getInputStream();
    }

    /** Sends the request and blocks until its answer (one line) arrives. */
    void call(byte[] request) throws IOException {
      out.write(request);
      out.flush();
      int b;
      while ((b = in.read()) != '\n') {
        if (b < 0) throw new IOException("the wait service closed the connection");
      }
    }
  }

  public static void main(String[] args) throws IOException {
    if (args.length != 8) {
      fail(new IllegalArgumentException("usage: <brokers> <topic> <group> <expected messages> "
          + "KEY|UNORDERED|PARTITION <maxConcurrency> <handler wait ms> <wait service port>"));
    }
    String brokers = args[0];
    String topic = args[1];
    long expected = Long.parseLong(args[3]);
    ProcessingOrder ordering = ProcessingOrder.valueOf(args[4]);
    int concurrency = Integer.parseInt(args[5]);
    byte[] request = (Long.parseLong(args[6]) + "\n").getBytes(StandardCharsets.US_ASCII);
    int port = Integer.parseInt(args[7]);
    ThreadLocal<ServiceLine> lines = ThreadLocal.withInitial(() -> {
      try {
        return new ServiceLine(port);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });

    ParallelConsumerOptions<byte[], byte[]> options = ParallelConsumerOptions.<byte[], byte[]>builder()
        .consumer(new KafkaConsumer<>(consumerProperties(brokers, args[2])))
        .ordering(ordering)
        .maxConcurrency(concurrency)
        .build();
    ParallelEoSStreamProcessor<byte[], byte[]> processor = new ParallelEoSStreamProcessor<>(options);
    processor.subscribe(List.of(topic));

    AtomicBoolean started = new AtomicBoolean(false);
    AtomicLong messages = new AtomicLong();
    AtomicLong bytes = new AtomicLong();
    long[] first = new long[1];
    processor.poll(context -> {
      if (started.compareAndSet(false, true)) {
        first[0] = System.nanoTime();
        emit("first", "");
      }
      try {
        lines.get().call(request);
      } catch (IOException e) {
        lines.remove();
        throw new UncheckedIOException(e);
      }
      context.streamConsumerRecords().forEach(record -> {
        byte[] value = record.value();
        bytes.addAndGet(value == null ? 0 : value.length);
        if (messages.incrementAndGet() == expected) {
          double elapsedMs = (System.nanoTime() - first[0]) / 1e6;
          emit("done", ",\"messages\":" + expected + ",\"bytes\":" + bytes.get()
              + ",\"elapsedMs\":" + elapsedMs);
        }
      });
    });

    Thread watcher = new Thread(() -> {
      while (!processor.isClosedOrFailed()) {
        try {
          Thread.sleep(200);
        } catch (InterruptedException e) {
          return;
        }
      }
      if (processor.getFailureCause() != null) fail(processor.getFailureCause());
    });
    watcher.setDaemon(true);
    watcher.start();

    // The benchmark closes stdin to ask the client to stop.
    InputStream in = System.in;
    byte[] buffer = new byte[256];
    while (in.read(buffer) >= 0) {
      // discard
    }
    watcher.interrupt();
    processor.close();
    System.exit(0);
  }
}
