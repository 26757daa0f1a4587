//! A DICOM Part 10 file of a honey patient: a small but valid 64×64 MONOCHROME2
//! secondary-capture image carrying the patient's demographics and study identity.

use dicom_core::{DataElement, PrimitiveValue, Tag, VR};
use dicom_dictionary_std::{tags, uids};
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};

use super::patient::{HoneyPatient, Series, Study};
use super::TokenError;

/// DCMTK's identity, as most exported files on a radiology workstation carry it.
const IMPLEMENTATION_CLASS_UID: &str = "1.2.276.0.7230010.3.0.3.6.7";
const IMPLEMENTATION_VERSION_NAME: &str = "OFFIS_DCMTK_367";
/// Rows and Columns of every honey image.
pub const IMAGE_SIDE: u16 = 64;
const SIDE: u16 = IMAGE_SIDE;
/// The SOP class of every honey instance: Secondary Capture Image Storage.
pub const SOP_CLASS: &str = uids::SECONDARY_CAPTURE_IMAGE_STORAGE;

fn text(obj: &mut InMemDicomObject, tag: Tag, vr: VR, value: &str) {
    obj.put(DataElement::new(tag, vr, PrimitiveValue::from(value)));
}

fn us(obj: &mut InMemDicomObject, tag: Tag, value: u16) {
    obj.put(DataElement::new(tag, VR::US, PrimitiveValue::from(value)));
}

/// A soft radial gradient: looks like an image, compresses to nothing, no real data.
fn pixels() -> Vec<u8> {
    let c = f32::from(SIDE) / 2.0;
    (0..SIDE)
        .flat_map(|y| (0..SIDE).map(move |x| (f32::from(x) - c, f32::from(y) - c)))
        .map(|(dx, dy)| (255.0 - (dx * dx + dy * dy).sqrt() * 7.0).clamp(0.0, 255.0) as u8)
        .collect()
}

/// Encodes the first instance of the patient's first study as a Part 10 file
/// (explicit VR little endian).
pub fn patient_file(p: &HoneyPatient) -> Result<Vec<u8>, TokenError> {
    let study = p.studies.first().ok_or_else(|| TokenError::Invalid("honey patient has no study".into()))?;
    let series = study.series.first().ok_or_else(|| TokenError::Invalid("honey study has no series".into()))?;
    instance_file(p, study, series, 1)
}

/// Encodes instance `number` of a series as a Part 10 file (explicit VR little endian,
/// the file meta of a DCMTK-written file).
pub fn instance_file(p: &HoneyPatient, study: &Study, series: &Series, number: u32) -> Result<Vec<u8>, TokenError> {
    let obj = instance_dataset(p, study, series, number).ok_or_else(|| TokenError::Invalid("honey series has no such instance".into()))?;
    let meta = FileMetaTableBuilder::new()
        .transfer_syntax(uids::EXPLICIT_VR_LITTLE_ENDIAN)
        .implementation_class_uid(IMPLEMENTATION_CLASS_UID)
        .implementation_version_name(IMPLEMENTATION_VERSION_NAME);
    let file = obj.with_meta(meta).map_err(|e| TokenError::Invalid(format!("DICOM meta: {e}")))?;
    let mut out = Vec::new();
    file.write_all(&mut out).map_err(|e| TokenError::Invalid(format!("DICOM encode: {e}")))?;
    Ok(out)
}

/// One instance of a honey study as a data set: a small but valid 64×64
/// MONOCHROME2 secondary-capture image with the patient's demographics. It is always
/// secondary capture (what a workstation's screen grab or an import is), whatever
/// the study's modality: [`SOP_CLASS`]. None if the series has no instance `number`.
pub fn instance_dataset(p: &HoneyPatient, study: &Study, series: &Series, number: u32) -> Option<InMemDicomObject> {
    let uid = series.instance_uid(number)?;
    let mut obj = InMemDicomObject::new_empty();
    text(&mut obj, tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 100");
    text(&mut obj, tags::SOP_CLASS_UID, VR::UI, uids::SECONDARY_CAPTURE_IMAGE_STORAGE);
    text(&mut obj, tags::SOP_INSTANCE_UID, VR::UI, &uid);
    text(&mut obj, tags::STUDY_DATE, VR::DA, &study.study_date);
    text(&mut obj, tags::STUDY_TIME, VR::TM, &study.study_time);
    text(&mut obj, tags::ACCESSION_NUMBER, VR::SH, &study.accession_number);
    text(&mut obj, tags::MODALITY, VR::CS, &series.modality);
    text(&mut obj, tags::CONVERSION_TYPE, VR::CS, "WSD");
    text(&mut obj, tags::INSTITUTION_NAME, VR::LO, &study.institution_name);
    text(&mut obj, tags::REFERRING_PHYSICIAN_NAME, VR::PN, &study.referring_physician);
    text(&mut obj, tags::STATION_NAME, VR::SH, &study.station_name);
    text(&mut obj, tags::STUDY_DESCRIPTION, VR::LO, &study.description);
    text(&mut obj, tags::SERIES_DESCRIPTION, VR::LO, &series.description);
    text(&mut obj, tags::PATIENT_NAME, VR::PN, &p.dicom_name());
    text(&mut obj, tags::PATIENT_ID, VR::LO, &p.nhs_number);
    text(&mut obj, tags::ISSUER_OF_PATIENT_ID, VR::LO, "NHS");
    text(&mut obj, tags::PATIENT_BIRTH_DATE, VR::DA, &p.birth_date);
    text(&mut obj, tags::PATIENT_SEX, VR::CS, &p.sex);
    // Retired in the standard but still what many archives fill with the local MRN.
    #[allow(deprecated)]
    text(&mut obj, tags::OTHER_PATIENT_I_DS, VR::LO, &p.mrn);
    text(&mut obj, tags::BODY_PART_EXAMINED, VR::CS, &study.body_part);
    text(&mut obj, tags::STUDY_INSTANCE_UID, VR::UI, &study.study_instance_uid);
    text(&mut obj, tags::SERIES_INSTANCE_UID, VR::UI, &series.series_instance_uid);
    text(&mut obj, tags::STUDY_ID, VR::SH, &study.accession_number);
    text(&mut obj, tags::SERIES_NUMBER, VR::IS, &series.number.to_string());
    text(&mut obj, tags::INSTANCE_NUMBER, VR::IS, &number.to_string());
    us(&mut obj, tags::SAMPLES_PER_PIXEL, 1);
    text(&mut obj, tags::PHOTOMETRIC_INTERPRETATION, VR::CS, "MONOCHROME2");
    us(&mut obj, tags::ROWS, SIDE);
    us(&mut obj, tags::COLUMNS, SIDE);
    us(&mut obj, tags::BITS_ALLOCATED, 8);
    us(&mut obj, tags::BITS_STORED, 8);
    us(&mut obj, tags::HIGH_BIT, 7);
    us(&mut obj, tags::PIXEL_REPRESENTATION, 0);
    obj.put(DataElement::new(tags::PIXEL_DATA, VR::OB, PrimitiveValue::from(pixels())));
    Some(obj)
}
