using BackendAI.Client.Transfers;

namespace BackendAI.Client.Tests.Transfers;

public sealed class TransferProgressReporterTests
{
    private sealed class ManualClock : TimeProvider
    {
        private long _ticks;
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public override long GetTimestamp() => _ticks;
        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }

    private sealed class Recorder : IProgress<TransferProgress>
    {
        public List<TransferProgress> Reports { get; } = [];
        public void Report(TransferProgress value) => Reports.Add(value);
    }

    [Fact]
    public void Intermediate_reports_need_both_64_KiB_and_100_ms_while_start_and_completion_always_report()
    {
        var clock = new ManualClock();
        var sink = new Recorder();
        var reporter = new TransferProgressReporter(sink, 1, timeProvider: clock);
        var bytes = reporter.BeginFile("a.bin", 1_000_000);

        bytes.Report(100_000);                  // enough bytes, too soon
        clock.Advance(TimeSpan.FromMilliseconds(150));
        bytes.Report(100_100);                  // 100 ms passed: reported
        clock.Advance(TimeSpan.FromMilliseconds(150));
        bytes.Report(120_000);                  // only 19,900 bytes since the last report
        bytes.Report(170_000);                  // 69,900 bytes and 150 ms: reported
        bytes.Report(1_000_000);                // completion: always reported
        reporter.CompleteFile(1_000_000);       // already reported: not again

        Assert.Equal([0L, 100_100, 170_000, 1_000_000], sink.Reports.Select(r => r.BytesTransferred));
        Assert.True(sink.Reports[^1].IsFileComplete);
        Assert.Equal(1_000_000, reporter.BytesCounted);
    }

    [Fact]
    public void Byte_counts_that_go_back_after_a_resume_are_held_at_the_high_water_mark_and_counted_once()
    {
        var sink = new Recorder();
        var reporter = new TransferProgressReporter(sink, 1, minBytes: 0, minInterval: TimeSpan.Zero);
        var bytes = reporter.BeginFile("a.bin", 300);

        bytes.Report(200);
        bytes.Report(120); // the server confirmed less than was sent: resumed from 120
        bytes.Report(180);
        bytes.Report(250);
        bytes.Report(300);

        Assert.Equal([0L, 200, 250, 300], sink.Reports.Select(r => r.BytesTransferred));
        Assert.Equal(300, reporter.BytesCounted);
    }

    [Fact]
    public void Several_files_report_overall_bytes_and_the_overall_total_once_it_is_known()
    {
        var sink = new Recorder();
        var reporter = new TransferProgressReporter(sink, 2, minBytes: 0, minInterval: TimeSpan.Zero);
        var first = reporter.BeginFile("a", null);
        reporter.SetFileTotal(10);
        first.Report(10);
        var second = reporter.BeginFile("b", null);
        second.Report(5);
        reporter.CompleteFile(5);

        // The last report repeats 5 bytes: the file's size became known only at its completion.
        Assert.Equal([(0, 0L, 0L), (0, 10, 10), (1, 0, 10), (1, 5, 15), (1, 5, 15)],
            sink.Reports.Select(r => (r.FileIndex, r.BytesTransferred, r.OverallBytesTransferred)));
        Assert.All(sink.Reports, r => Assert.Equal(2, r.FileCount));
        Assert.Null(sink.Reports[1].OverallTotalBytes); // the second file's size is not known yet
        Assert.Equal(15, sink.Reports[^1].OverallTotalBytes);
        Assert.Null(sink.Reports[^2].TotalBytes);
        Assert.Equal(5, sink.Reports[^1].TotalBytes);
        Assert.True(sink.Reports[^1].IsFileComplete);
    }

    [Fact]
    public void An_empty_file_reports_its_start_once_and_a_reporter_without_sink_still_counts()
    {
        var sink = new Recorder();
        var reporter = new TransferProgressReporter(sink, 1);
        reporter.BeginFile("empty", 0);
        reporter.CompleteFile(0);
        Assert.Single(sink.Reports);
        Assert.True(sink.Reports[0].IsFileComplete);

        var silent = new TransferProgressReporter(null, 1);
        silent.BeginFile("x", 7).Report(7);
        Assert.Equal(7, silent.BytesCounted);
    }

    [Fact]
    public void A_progress_built_with_three_arguments_defaults_its_overall_values_to_the_file()
    {
        var p = new TransferProgress("a", 5, 10);
        Assert.Equal((5L, (long?)10, 0, 1), (p.OverallBytesTransferred, p.OverallTotalBytes, p.FileIndex, p.FileCount));
        Assert.Null((p with { OverallTotalBytes = null }).OverallTotalBytes);
    }
}
