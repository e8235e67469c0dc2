/*
 * The benchmark's consume→produce client on Kafka's own Java client: consumes the input topic
 * from earliest with a fresh group (the JavaScript clients' fetch settings, auto-commit off) and
 * writes one output per input, its value as is, to the input's partition of the output topic.
 * Each poll's records are one batch:
 *
 *   eos  a transactional producer; one transaction per batch carries the outputs and the input
 *        offsets (sendOffsetsToTransaction with the consumer's group metadata)
 *   alo  an idempotent producer (acks all); the batch's offsets are committed once every output
 *        was acknowledged
 *
 * It prints {"bench":"first"} at the first input (bench/clients/report.mjs's line protocol); the
 * benchmark ends the window when the group's committed offsets reach the end of the input. It
 * exits when its stdin closes.
 *
 *   java -cp <class path> ProduceBench <brokers> <topic> <group> <output topic> alo|eos
 */
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public final class ProduceBench {
  private ProduceBench() {}

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
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, "bench-java-produce");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.FETCH_MIN_BYTES_CONFIG, "1");
    p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "500");
    p.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, String.valueOf(10 * 1024 * 1024));
    p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, String.valueOf(1024 * 1024));
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    return p;
  }

  private static Properties producerProperties(String brokers, String transactionalId) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "bench-java-produce-out");
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    if (transactionalId != null) p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    return p;
  }

  /** The next offset of each partition in `records` (what a commit of them writes). */
  private static Map<TopicPartition, OffsetAndMetadata> nextOffsets(
      ConsumerRecords<byte[], byte[]> records) {
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    for (TopicPartition partition : records.partitions()) {
      List<ConsumerRecord<byte[], byte[]>> list = records.records(partition);
      offsets.put(partition, new OffsetAndMetadata(list.get(list.size() - 1).offset() + 1));
    }
    return offsets;
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 5 || !(args[4].equals("alo") || args[4].equals("eos"))) {
      fail(new IllegalArgumentException("usage: <brokers> <topic> <group> <output topic> alo|eos"));
    }
    String brokers = args[0];
    String topic = args[1];
    String group = args[2];
    String output = args[3];
    boolean transactional = args[4].equals("eos");

    AtomicBoolean stop = new AtomicBoolean(false);
    Thread stdin = new Thread(() -> {
      try {
        InputStream in = System.in;
        byte[] buffer = new byte[256];
        while (in.read(buffer) >= 0) {
          // discard
        }
      } catch (Exception e) {
        // closed
      }
      stop.set(true);
    });
    stdin.setDaemon(true);
    stdin.start();

    try (KafkaConsumer<byte[], byte[]> consumer =
             new KafkaConsumer<>(consumerProperties(brokers, group));
         KafkaProducer<byte[], byte[]> producer =
             new KafkaProducer<>(producerProperties(brokers, transactional ? "bench-" + group : null))) {
      if (transactional) producer.initTransactions();
      consumer.subscribe(List.of(topic));
      boolean started = false;
      while (!stop.get()) {
        ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(100));
        if (records.isEmpty()) continue;
        if (!started) {
          started = true;
          emit("first", "");
        }
        if (transactional) producer.beginTransaction();
        List<Future<RecordMetadata>> sent = new ArrayList<>(records.count());
        for (ConsumerRecord<byte[], byte[]> record : records) {
          sent.add(producer.send(
              new ProducerRecord<>(output, record.partition(), null, record.value())));
        }
        if (transactional) {
          producer.sendOffsetsToTransaction(nextOffsets(records), consumer.groupMetadata());
          producer.commitTransaction();
        } else {
          for (Future<RecordMetadata> ack : sent) ack.get();
          consumer.commitSync(nextOffsets(records));
        }
      }
    } catch (Exception error) {
      fail(error);
    }
    System.exit(0);
  }
}
