//! The synthetic cohort passes the checks a radiologist would make of an archive:
//! who had which examination, when, with how many series and images, referred by
//! whom, numbered how. Run over a large cohort from several seeds.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, NaiveDate, Weekday};
use honeyward::token::clinical::{self, age_on, parse_date, Hours, Site, Who, EXAMS};
use honeyward::token::{nhs, HoneyPatient};

fn site() -> Site {
    Site { uid_root: "1.2.826.0.1.3680043.10.5".into(), institution_name: "St Elsewhere NHS Trust".into(), site_code: "RXH".into() }
}

fn cohort() -> Vec<HoneyPatient> {
    [1u64, 99, 123_456_789].iter().flat_map(|&seed| clinical::cohort(seed, 800, &site())).collect()
}

fn exam_of(description: &str) -> &'static clinical::Exam {
    EXAMS.iter().find(|e| e.description == description).unwrap_or_else(|| panic!("unknown exam {description}"))
}

fn when(study: &honeyward::token::Study) -> (NaiveDate, u32) {
    let t = &study.study_time;
    let minutes = t[..2].parse::<u32>().unwrap() * 60 + t[2..4].parse::<u32>().unwrap();
    (parse_date(&study.study_date).unwrap(), minutes)
}

#[test]
fn examinations_fit_the_patients_sex_and_age() {
    let mut mammograms = 0;
    for p in cohort() {
        let birth = parse_date(&p.birth_date).unwrap();
        assert!(p.sex == "F" || p.sex == "M");
        for s in &p.studies {
            let exam = exam_of(&s.description);
            let age = age_on(birth, parse_date(&s.study_date).unwrap());
            assert!((exam.ages.0..=exam.ages.1).contains(&age), "{} at {age}", s.description);
            if exam.who == Who::Women {
                assert_eq!(p.sex, "F", "{} for a man", s.description);
            }
            if s.modality == "MG" {
                mammograms += 1;
                assert!((50..=71).contains(&age) && p.sex == "F", "screening mammogram for {} aged {age}", p.sex);
            }
            if s.description.contains("OBSTETRIC") {
                assert!((18..=44).contains(&age) && p.sex == "F");
            }
            assert_eq!(s.modality, exam.modality);
            assert!(s.series.iter().all(|series| series.modality == s.modality));
        }
    }
    assert!(mammograms > 10, "screening mammography is in the cohort ({mammograms})");
}

#[test]
fn elective_lists_run_in_working_hours_and_acute_work_around_the_clock() {
    let (mut acute, mut out_of_hours, mut times) = (0, 0, HashSet::new());
    for p in cohort() {
        for s in &p.studies {
            let (day, minutes) = when(s);
            times.insert(s.study_time.clone());
            let weekend = matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
            let working = !weekend && (8 * 60..18 * 60).contains(&minutes);
            match exam_of(&s.description).hours {
                Hours::Elective => assert!(working, "{} on {day} at {}", s.description, s.study_time),
                Hours::Acute => {
                    acute += 1;
                    out_of_hours += usize::from(!working);
                }
            }
            assert!(day >= NaiveDate::from_ymd_opt(2019, 1, 1).unwrap() && day <= clinical::cohort_until());
        }
    }
    let share = out_of_hours as f64 / acute as f64;
    assert!((0.25..0.65).contains(&share), "out-of-hours share of acute work {share}");
    assert!(times.len() > 1000, "study times vary ({} distinct)", times.len());
}

#[test]
fn series_and_image_counts_are_typical_of_each_examination() {
    for p in cohort() {
        for s in &p.studies {
            let images = s.instance_count();
            match s.modality.as_str() {
                "CT" => assert!(s.series.len() >= 3 && images >= 200, "{}: {} series, {images} images", s.description, s.series.len()),
                "MR" => assert!(s.series.len() >= 4 && images >= 50, "{}: {} series, {images} images", s.description, s.series.len()),
                "DX" => assert!((1..=2).contains(&s.series.len()) && s.series.iter().all(|x| x.instance_count <= 2)),
                "MG" => assert_eq!(images, 4, "four screening views"),
                "US" => assert!(s.series.len() == 1 && (8..=50).contains(&images)),
                other => panic!("unexpected modality {other}"),
            }
            let numbers: Vec<u32> = s.series.iter().map(|x| x.number).collect();
            assert_eq!(numbers, (1..=s.series.len() as u32).collect::<Vec<_>>());
        }
    }
}

#[test]
fn every_study_has_a_referrer_an_accession_in_the_trust_format_and_the_sites_names() {
    let (mut accessions, mut referrers) = (HashSet::new(), HashMap::new());
    for p in cohort() {
        assert!(nhs::is_valid(&p.nhs_number) && p.nhs_number.starts_with("999"));
        for s in &p.studies {
            let a = &s.accession_number;
            assert!(a.len() == 11 && a.starts_with("RXH") && a[3..].bytes().all(|b| b.is_ascii_digit()), "{a}");
            assert_eq!(&a[3..5], &s.study_date[2..4], "the accession carries the year");
            accessions.insert(a.clone());
            assert!(s.referring_physician.split('^').count() == 4 && !s.referring_physician.starts_with('^'), "{}", s.referring_physician);
            *referrers.entry(s.referring_physician.clone()).or_insert(0) += 1;
            assert_eq!(s.institution_name, "St Elsewhere NHS Trust");
            assert!(s.station_name.starts_with(&format!("RXH{}", s.modality)), "{}", s.station_name);
            for series in &s.series {
                let last = series.instance_uid(series.instance_count).unwrap();
                assert!(last.len() <= 64 && last.starts_with("1.2.826.0.1.3680043.10.5."), "{last}");
            }
        }
    }
    let studies: usize = cohort().iter().map(|p| p.studies.len()).sum();
    assert!(accessions.len() as f64 > studies as f64 * 0.99, "accession numbers are (nearly) unique");
    assert!(referrers.len() >= 10, "more than one referrer per kind");
}

#[test]
fn the_same_seed_gives_the_same_cohort_and_another_seed_another() {
    assert_eq!(clinical::cohort(5, 40, &site()), clinical::cohort(5, 40, &site()));
    assert_ne!(clinical::cohort(5, 40, &site()), clinical::cohort(6, 40, &site()));
    let counts: Vec<usize> = clinical::cohort(5, 400, &site()).iter().map(|p| p.studies.len()).collect();
    assert!(counts.contains(&1) && counts.contains(&3), "patients have one to four studies");
}
