using Authio.Shared.Configuration;

namespace Authio.ControlPlane.Hosting;

/// <summary><c>ControlPlane:DataSubjects</c>: data-subject exports. <see cref="Validate"/> stops start-up naming a bad key.</summary>
internal sealed class DataSubjectOptions
{
    private const string Key = "ControlPlane:DataSubjects:";

    /// <summary>How long an export waits for its one download before its content is deleted. Default 24 h; 5 min – 7 d.</summary>
    public TimeSpan ExportTtl { get; set; } = TimeSpan.FromHours(24);

    public void Validate()
    {
        if (ExportTtl < TimeSpan.FromMinutes(5) || ExportTtl > TimeSpan.FromDays(7))
        {
            throw new ConfigurationException(Key + "ExportTtl", "must be between 5 minutes and 7 days");
        }
    }
}
